"""The telephone front end (Twilio webhooks and media streams); built in a later step."""
