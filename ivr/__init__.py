"""The telephone front end: Twilio voice webhooks driving the voice menu."""

from ivr.bulletin_webhooks import bulletin_blueprint
from ivr.operator_webhooks import operator_blueprint
from ivr.settings import IvrSettings
from ivr.views import blueprint

__all__ = ["IvrSettings", "blueprint", "bulletin_blueprint", "operator_blueprint"]
