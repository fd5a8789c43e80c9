"""Settings come from the environment, else tingwen.toml in the data folder, else defaults."""

import click
import pytest

from server import Config


def test_defaults(tmp_path, monkeypatch):
    for name in ("TINGWEN_SPEECH_RATE", "TWILIO_AUTH_TOKEN", "TINGWEN_PUBLIC_URL", "TINGWEN_SKIP_TWILIO_SIGNATURE"):
        monkeypatch.delenv(name, raising=False)
    config = Config.load(tmp_path)
    assert config.speech_rate == 130 and config.twilio_auth_token is None
    assert config.ivr.validate_signatures and config.ivr.gather_timeout >= 8


def test_file_then_environment(tmp_path, monkeypatch):
    (tmp_path / "tingwen.toml").write_text(
        'twilio_auth_token = "from-file"\ntingwen_public_url = "https://ivr.example.gov.cn"\ntingwen_speech_rate = 110\n',
        "utf-8",
    )
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.setenv("TINGWEN_SPEECH_RATE", "120")
    config = Config.load(tmp_path)
    assert config.twilio_auth_token == "from-file"
    assert config.public_url == "https://ivr.example.gov.cn"
    assert config.speech_rate == 120  # the environment wins
    assert config.ivr.url("/ivr/gather") == "https://ivr.example.gov.cn/ivr/gather"


@pytest.mark.parametrize("raw, expected", [("1", True), ("true", True), ("off", False), ("0", False)])
def test_switches(tmp_path, monkeypatch, raw, expected):
    monkeypatch.setenv("TINGWEN_SKIP_TWILIO_SIGNATURE", raw)
    assert Config.load(tmp_path).skip_twilio_signature is expected


@pytest.mark.parametrize("name, raw", [("TINGWEN_SPEECH_RATE", "fast"), ("TINGWEN_SKIP_TWILIO_SIGNATURE", "maybe")])
def test_bad_values_are_named(tmp_path, monkeypatch, name, raw):
    monkeypatch.setenv(name, raw)
    with pytest.raises(click.UsageError, match=name):
        Config.load(tmp_path)


def test_broken_config_file_is_named(tmp_path):
    (tmp_path / "tingwen.toml").write_text("twilio_auth_token = ", "utf-8")
    with pytest.raises(click.UsageError, match="tingwen.toml"):
        Config.load(tmp_path)
