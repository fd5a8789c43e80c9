"""Unsigned or wrongly signed webhooks get 403 and change nothing; garbled input never a 500."""

import pytest
from conftest import PhoneCall, phone_app

from ivr.callstore import CallStore


@pytest.fixture
def app(tmp_path):
    return phone_app(tmp_path / "data")


def _calls(app):
    settings = app.config["TINGWEN_IVR"]
    return CallStore.open(settings)


@pytest.mark.parametrize("path", ["/ivr/voice", "/ivr/gather", "/ivr/status"])
def test_unsigned_requests_are_refused(app, path):
    call = PhoneCall(app)
    response = call.post(path, {"CallSid": call.sid, "Digits": "1"}, signed=False)
    assert response.status_code == 403
    assert _calls(app).get(call.sid) is None


def test_wrong_signature_and_tampered_parameters_are_refused(app):
    call = PhoneCall(app).start()
    before = _calls(app).get(call.sid)
    headers = {"X-Twilio-Signature": call.validator.compute_signature("https://ivr.example.gov.cn/ivr/gather", {"CallSid": call.sid, "Digits": "1"})}
    response = call.client.post("/ivr/gather", data={"CallSid": call.sid, "Digits": "4"}, headers=headers)
    assert response.status_code == 403
    assert _calls(app).get(call.sid) == before  # nothing changed


def test_signature_for_another_host_is_refused(app):
    call = PhoneCall(app)
    params = {"CallSid": call.sid}
    headers = {"X-Twilio-Signature": call.validator.compute_signature("http://localhost/ivr/voice", params)}
    assert call.client.post("/ivr/voice", data=params, headers=headers).status_code == 403


def test_validation_can_be_switched_off_for_development(tmp_path):
    app = phone_app(tmp_path / "data", skip_twilio_signature=True)
    call = PhoneCall(app)
    assert call.post("/ivr/voice", {"CallSid": call.sid}, signed=False).status_code == 200


@pytest.mark.parametrize(
    "params, status",
    [
        ({}, 400),  # no CallSid
        ({"CallSid": ""}, 400),
        ({"CallSid": "x" * 5000}, 400),
        ({"CallSid": "CA/../../etc"}, 400),
    ],
)
def test_missing_or_garbled_call_sid_is_a_400_with_a_reason(app, params, status):
    call = PhoneCall(app)
    response = call.post("/ivr/gather", params)
    assert response.status_code == status
    assert b"CallSid" in response.data


@pytest.mark.parametrize("digits", ["abc", "12", "x" * 5000, "\u0661", "%00"])
def test_garbled_digits_get_a_safe_reprompt(app, digits):
    call = PhoneCall(app).start()
    call.post("/ivr/gather", {"CallSid": call.sid, "Digits": digits})
    assert call.last.status_code == 200
    assert call.twiml.xpath("//Gather")  # asked again, not hung up
    assert _calls(app).get(call.sid).state


def test_huge_values_elsewhere_are_harmless(app):
    call = PhoneCall(app)
    call.post("/ivr/voice", {"CallSid": call.sid, "From": "1" * 5000, "CallStatus": "x" * 5000})
    assert call.last.status_code == 200


def test_unknown_call_sid_is_greeted_afresh(app):
    call = PhoneCall(app, sid="CAunknown000000000000000000000000")
    call.post("/ivr/gather", {"CallSid": call.sid, "Digits": "3"})
    assert call.last.status_code == 200
    assert call.twiml.xpath("//Gather/Play")
    assert _calls(app).get(call.sid) is not None


def test_switching_validation_off_is_logged_loudly(tmp_path, caplog):
    import logging

    with caplog.at_level(logging.WARNING):
        phone_app(tmp_path / "data", skip_twilio_signature=True)
    assert any("UNSIGNED" in r.message for r in caplog.records)


def test_engine_failure_falls_back_to_twilio_say(tmp_path):
    from speech.cache import AudioCache
    from speech.engine import EspeakCommand, VoiceSettings
    from speech.speaker import Speaker

    app = phone_app(tmp_path / "data")
    broken = EspeakCommand()
    broken.binary = str(tmp_path / "no-espeak-here")
    app.extensions["tingwen.speaker"] = Speaker(AudioCache(tmp_path / "empty-cache"), VoiceSettings(), engine=broken)
    call = PhoneCall(app).start()
    assert call.last.status_code == 200
    says = call.twiml.xpath("//Gather/Say")
    assert says and all(s.get("language") == "cmn-CN" for s in says)
    assert "最新通知共有七条" in "".join(s.text for s in says)  # the spoken form, digits read out
    assert not call.twiml.xpath("//Play")


@pytest.mark.parametrize(
    "signed_url, status",
    [
        ("https://ivr.example.gov.cn/ivr/voice", 200),  # the URL as configured
        ("https://ivr.example.gov.cn:443/ivr/voice", 200),  # with the default port, as Twilio may sign it
        ("https://ivr.example.gov.cn:8443/ivr/voice", 403),  # another port
        ("https://ivr.example.gov.cn/ivr/gather", 403),  # another path
        ("http://ivr.example.gov.cn/ivr/voice", 403),  # another scheme
    ],
)
def test_the_signature_is_checked_for_the_url_twilio_called(app, signed_url, status):
    call = PhoneCall(app)
    params = {"CallSid": call.sid, "From": "+8613800000000"}
    headers = {"X-Twilio-Signature": call.validator.compute_signature(signed_url, params)}
    assert call.client.post("/ivr/voice", data=params, headers=headers).status_code == status


def test_a_signature_of_strange_characters_is_refused_not_an_error(app):
    call = PhoneCall(app)
    headers = {"X-Twilio-Signature": "签名é\x00"}
    assert call.client.post("/ivr/voice", data={"CallSid": call.sid}, headers=headers).status_code == 403
