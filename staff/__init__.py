"""The staff console: a web front end behind a sign-in, beside the kiosk and the phone line."""

from staff.views import blueprint

__all__ = ["blueprint"]
