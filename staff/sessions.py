"""The staff console's session cookie, as Flask signs it, at no cost to the requests that carry
none: Flask builds its signing serializer for every request (the phone's webhooks and the
kiosk's turns too), which this skips until there is a cookie to read or a session to write."""

from __future__ import annotations

from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class StaffSessions(SecureCookieSessionInterface):
    def open_session(self, app, request) -> SecureCookieSession | None:
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()  # what Flask gives a request without the cookie
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if not session and not session.modified and not session.accessed:
            return  # nothing to set, clear or vary on (Flask would return here too, after its look-ups)
        super().save_session(app, session, response)
