"""A stand-in for Twilio's REST API (the one part of the phone line that cannot run here), served
on loopback and driven by the real `twilio` client: it checks what the client sends (the
account in the path and in Basic auth, To, From, Url, StatusCallback, the methods) the way
Twilio's API does, and keeps the calls it was asked to place, so a test can then play Twilio's
part on our webhooks with exactly the URLs it was given."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from flask import Flask, jsonify, request

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token"


@dataclass
class PlacedCall:
    sid: str
    to: str
    from_: str
    url: str
    method: str
    status_callback: str
    status_callback_method: str
    status_callback_events: list[str]
    created: datetime
    status: str = "queued"
    machine_detection: dict[str, str] = field(default_factory=dict)  # MachineDetection, AsyncAmd…, as sent
    updates: list[dict[str, str]] = field(default_factory=list)  # what calls(sid).update asked, in order


@dataclass
class SentMessage:
    sid: str
    to: str
    from_: str  # From, or the Messaging Service's id
    body: str
    created: datetime


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    calls: list[PlacedCall] = field(default_factory=list)
    refused_numbers: set[str] = field(default_factory=set)  # answered 400 (21211), as for a bad number
    messages: list[SentMessage] = field(default_factory=list)
    landlines: set[str] = field(default_factory=set)  # a text to one is answered 400 (21614), as Twilio does
    rejected: list[str] = field(default_factory=list)  # why requests were refused
    failing: bool = False  # every request answered 503, as while Twilio has an outage
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("fake-twilio")
        base = "/2010-04-01/Accounts/<account>"

        @app.before_request
        def authorised():
            if self.failing:
                return _error(503, 20500, "Service Unavailable")
            expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
            if request.headers.get("Authorization") != expected:
                self.rejected.append("authentication")
                return _error(401, 20003, "Authenticate")
            if request.view_args and request.view_args.get("account") != self.account_sid:
                self.rejected.append("account in path")
                return _error(404, 20404, "The requested resource was not found")
            return None

        @app.post(f"{base}/Calls.json")
        def create(account):
            form = request.form
            for name in ("To", "From", "Url"):
                if not form.get(name):
                    self.rejected.append(f"missing {name}")
                    return _error(400, 21201 if name == "To" else 21213, f"No '{name}' number is specified")
            if form["To"] in self.refused_numbers:
                return _error(400, 21211, f"The 'To' number {form['To']} is not a valid phone number.")
            with self.lock:
                call = PlacedCall(
                    sid=f"CA{len(self.calls) + 1:032x}",
                    to=form["To"],
                    from_=form["From"],
                    url=form["Url"],
                    method=form.get("Method", "POST"),
                    status_callback=form.get("StatusCallback", ""),
                    status_callback_method=form.get("StatusCallbackMethod", "POST"),
                    status_callback_events=form.getlist("StatusCallbackEvent"),
                    created=datetime.now(UTC),
                    machine_detection={k: v for k, v in form.items() if k.startswith(("MachineDetection", "AsyncAmd"))},
                )
                self.calls.append(call)
            return jsonify(self._resource(call)), 201

        @app.get(f"{base}/Calls.json")
        def listing(account):
            found = [c for c in self.calls if c.to == request.args.get("To", c.to) and c.from_ == request.args.get("From", c.from_)]
            return jsonify({"calls": [self._resource(c) for c in reversed(found)], "next_page_uri": None, "page": 0,
                            "page_size": 50, "uri": request.full_path, "start": 0, "end": len(found)})

        @app.get(f"{base}/Calls/<sid>.json")
        def fetch(account, sid):
            call = next((c for c in self.calls if c.sid == sid), None)
            if call is None:
                return _error(404, 20404, "The requested resource was not found")
            return jsonify(self._resource(call))

        @app.post(f"{base}/Calls/<sid>.json")
        def update(account, sid):
            """A call under way moved to new TwiML (Url) or ended (Status=completed); a call
            that is over cannot be (Twilio's 21220)."""
            call = next((c for c in self.calls if c.sid == sid), None)
            if call is None:
                return _error(404, 20404, "The requested resource was not found")
            if call.status not in ("queued", "ringing", "in-progress"):
                return _error(400, 21220, "Call is not in-progress. Cannot redirect.")
            change = request.form.to_dict()
            if not change.get("Url") and change.get("Status") not in ("completed", "canceled") and not change.get("Twiml"):
                self.rejected.append("update without Url, Twiml or Status")
                return _error(400, 21218, "Invalid update")
            with self.lock:
                call.updates.append(change)
                if change.get("Status") in ("completed", "canceled"):
                    call.status = "completed"
            return jsonify(self._resource(call))

        @app.post(f"{base}/Messages.json")
        def message(account):
            """A text message: To, a body, and From or a MessagingServiceSid, as Twilio requires."""
            form = request.form
            sender = form.get("From") or form.get("MessagingServiceSid")
            if not form.get("To") or not sender or not form.get("Body"):
                self.rejected.append("message without To, From or Body")
                return _error(400, 21602 if not form.get("Body") else 21604, "A 'To', 'From' and 'Body' are required")
            if form["To"] in self.landlines:
                return _error(400, 21614, f"'To' number {form['To']} is not a valid mobile number")
            with self.lock:
                sent = SentMessage(f"SM{len(self.messages) + 1:032x}", form["To"], sender, form["Body"], datetime.now(UTC))
                self.messages.append(sent)
            return jsonify({"sid": sent.sid, "account_sid": self.account_sid, "to": sent.to, "from": sent.from_, "body": sent.body,
                            "status": "queued", "direction": "outbound-api", "date_created": format_datetime(sent.created),
                            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sent.sid}.json"}), 201

        return app

    def _resource(self, call: PlacedCall) -> dict:
        return {
            "sid": call.sid,
            "account_sid": self.account_sid,
            "to": call.to,
            "from": call.from_,
            "status": call.status,
            "direction": "outbound-api",
            "date_created": format_datetime(call.created),
            "date_updated": format_datetime(call.created),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call.sid}.json",
        }

    def incoming(self, sid: str, caller: str, to: str) -> PlacedCall:
        """A call someone placed to us, in progress (so calls(sid).update can move it)."""
        call = PlacedCall(sid, to, caller, "", "POST", "", "POST", [], datetime.now(UTC), status="in-progress")
        with self.lock:
            self.calls.append(call)
        return call

    def to(self, number: str) -> list[PlacedCall]:
        return [c for c in self.calls if c.to == number]


def _error(status: int, code: int, message: str):
    return jsonify({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}), status
