"""The walk-up kiosk front end: the page a service-hall kiosk shows in Chromium kiosk mode."""

from kiosk.views import blueprint

__all__ = ["blueprint"]
