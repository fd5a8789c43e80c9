"""The telephone front end: Twilio voice webhooks driving the voice menu."""

from ivr import bulletin_webhooks  # noqa: F401  (registers the bulletin's webhooks on the blueprint)
from ivr.settings import IvrSettings
from ivr.views import blueprint

__all__ = ["IvrSettings", "blueprint"]
