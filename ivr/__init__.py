"""The telephone front end: Twilio voice webhooks driving the voice menu."""

from ivr.settings import IvrSettings
from ivr.views import blueprint

__all__ = ["IvrSettings", "blueprint"]
