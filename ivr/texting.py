"""A notice by text message: a caller who presses 5 while a notice is read (or says 发短信)
gets its title, 文号, date and web address on their phone (Twilio's Messaging REST API).

Only to a number that can receive one: a withheld number cannot, nor a Chinese landline
(mobile numbers there are +86 1[3-9]…; elsewhere Twilio's own refusal, 21614, says so). At most
`texts_per_day` a caller in one of the hall's days, counted under the salted hash of their
number in a ledger beside the call log (kept two days, callstore.TEXT_LEDGER), claimed
before the message is sent so two calls at once cannot both pass the limit. Every request is
logged ("text", with its outcome) for `tingwen calls` and the staff console.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from content.menu_state import Say, SendText
from ivr.callstore import CallEvent, CallStore
from ivr.numbers import masked_number
from ivr.settings import IvrSettings
from ivr.twilio_rest import TwilioRefused, refusals

log = logging.getLogger(__name__)

SENT, NO_NUMBER, CANNOT_RECEIVE, LIMIT, FAILED = "sent", "no_number", "cannot_receive", "limit", "failed"
_CHINA = "+86"
_CHINA_MOBILE = re.compile(r"^\+861[3-9][0-9]{9}$")
# Twilio's refusals that mean this number cannot get a text from us (not a mobile, cannot be
# reached by SMS, the region is not enabled, the owner replied STOP).
_CANNOT_RECEIVE = {21614, 21612, 21408, 21610}


def can_receive_texts(number: str) -> bool:
    """Whether a text message can reach `number` (E.164), as far as its numbering plan tells."""
    return bool(_CHINA_MOBILE.match(number)) if number.startswith(_CHINA) else True


class Texting:
    """Sends notices for one call's turn: `settings` say from where and how many a day; the
    ledger is in `calls`'s database."""

    def __init__(self, settings: IvrSettings, calls: CallStore):
        self.settings, self.calls = settings, calls

    def carry_out(self, actions: list, number: str | None, now: datetime | None = None) -> tuple[list, list[CallEvent]]:
        """Each SendText of the menu done for the caller's `number`, and said in its place:
        sent, or why not. With the call-log events."""
        done, events = [], []
        for action in actions:
            if not isinstance(action, SendText):
                done.append(action)
                continue
            outcome = self.send(action, number, now)
            events.append(CallEvent("text", action.notice_id, detail={"outcome": outcome}))
            said = {SENT: action.sent, NO_NUMBER: action.no_number, CANNOT_RECEIVE: action.cannot_receive,
                    LIMIT: action.limit}.get(outcome, action.failed)  # fmt: skip
            done.append(Say(said))
        return done, events

    def send(self, action: SendText, number: str | None, now: datetime | None = None) -> str:
        if number is None:
            return NO_NUMBER
        if not can_receive_texts(number):
            return CANNOT_RECEIVE
        account = self.settings.account
        problems = account.problems() if account is not None else ["TWILIO_ACCOUNT_SID is not set"]
        if not self.settings.sms_from or problems:
            log.error("a notice cannot be sent by text message: %s", "; ".join(problems) or "TINGWEN_SMS_FROM is not set")
            return FAILED
        try:
            claim = self._claim(number, action.notice_id, now)
        except Exception as error:
            log.error("text messages: the ledger cannot be written: %s", error)
            return FAILED
        if claim is None:
            return LIMIT
        try:
            with refusals():
                message = account.client().messages.create(to=number, body=action.body, **self._sender())
        except TwilioRefused as error:
            self._settle(claim, "refused")
            log.warning("text message to %s refused: %s", masked_number(number), error)
            return CANNOT_RECEIVE if error.code in _CANNOT_RECEIVE else FAILED
        except Exception as error:  # Twilio cannot be reached: the claim does not count
            self._settle(claim, "failed")
            log.error("text message to %s not sent: %s", masked_number(number), error)
            return FAILED
        self._settle(claim, SENT, message.sid)
        log.info("text message %s sent to %s (notice %s)", message.sid, masked_number(number), action.notice_id)
        return SENT

    def _sender(self) -> dict[str, str]:
        """From our number, or through a Messaging Service (its id begins MG)."""
        sender = self.settings.sms_from
        return {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}

    def _day_start(self, now: datetime | None) -> str:
        """The start of the hall's day, as the call log stores times."""
        local = self.settings.local_now(now)
        return self.calls.stamp(local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC))

    def _claim(self, number: str, notice_id: int, now: datetime | None) -> int | None:
        """A place in today's count for this caller (its ledger id), or None when the day's are used."""
        key = self.calls.caller_hash(number)
        conn = self.calls.conn
        with conn.writing(f"texts {key[:12]}"):
            used = conn.query("SELECT count(*) AS n FROM texts WHERE caller_hash = ? AND sent_at >= ? AND status IN ('claimed', 'sent')",
                              [key, self._day_start(now)])[0]["n"]
            if used >= self.settings.texts_per_day:
                return None
            rows = conn.query("INSERT INTO texts (caller_hash, sent_at, notice_id, status) VALUES (?, ?, ?, 'claimed') RETURNING id",
                              [key, self.calls.stamp(now), notice_id])
        return rows[0]["id"]

    def _settle(self, claim: int, status: str, message_sid: str | None = None) -> None:
        try:
            with self.calls.conn.writing("texts"):
                self.calls.conn.execute("UPDATE texts SET status = ?, message_sid = ? WHERE id = ?", [status, message_sid, claim])
        except Exception as error:  # the message went (or not) all the same; a stale claim counts for today only
            log.error("text messages: the ledger cannot be written: %s", error)
