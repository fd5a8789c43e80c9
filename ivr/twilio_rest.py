"""Twilio's REST API, in one place: the client (pointed at TINGWEN_TWILIO_API_URL, so the tests
reach a local stand-in with the real `twilio` library) and what its refusals mean. The daily
bulletin places calls with it, a streaming call is moved to the hall's staff with it, and a
notice goes out by text message with it."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass


REQUEST_SECONDS = 10  # under the 15 s Twilio waits for a webhook's answer


@dataclass(frozen=True)
class TwilioAccount:
    account_sid: str
    auth_token: str
    api_url: str  # https://api.twilio.com, or the tests' stand-in

    def problems(self) -> list[str]:
        """The settings still missing for a request (empty when it can be made)."""
        return [f"{name} is not set" for value, name in ((self.account_sid, "TWILIO_ACCOUNT_SID"), (self.auth_token, "TWILIO_AUTH_TOKEN"))
                if not value]

    def client(self):
        """The `twilio` client; a request gives up after REQUEST_SECONDS (a caller is waiting)."""
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        client = Client(self.account_sid, self.auth_token, http_client=TwilioHttpClient(timeout=REQUEST_SECONDS))
        client.api.base_url = self.api_url.rstrip("/")
        return client


class TwilioRefused(Exception):
    """Twilio answered and would not do it (a bad number, a call no longer under way, a number
    that cannot receive text messages): `code` is Twilio's error code."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


@contextlib.contextmanager
def refusals():
    """Twilio's 4xx answers as TwilioRefused; anything else (Twilio unreachable, a 5xx) goes
    through as it is."""
    from twilio.base.exceptions import TwilioRestException

    try:
        yield
    except TwilioRestException as error:
        if error.status is not None and 400 <= error.status < 500:
            raise TwilioRefused(f"Twilio {error.status} {error.code}: {error.msg}", error.code) from None
        raise
