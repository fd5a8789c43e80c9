"""Faults on the phone line: replayed webhooks of a finished call, damaged or cut-short audio, a
full data disk, malformed stream messages and a failing recogniser. The caller always hears
something (our audio, or <Say>), the app never answers 500, and the line recovers by itself."""

import dataclasses
import logging
import os
import subprocess
import time
import wave

import pytest
from conftest import FIXTURES, PhoneCall, live_app, phone_app
from twilio_stream import TwilioStream

from content.prompts import load_prompts
from ivr.callstore import CallStore
from speech import speaker as speaker_module
from speech.audio import ulaw_payload, wav_problem
from speech.cache import AudioCache
from speech.utterances import AudioFormat


def _app(data_dir, **settings):
    app = phone_app(data_dir, **settings)
    app.testing = False  # an exception is a 500 here, as in production
    return app


def test_a_finished_call_cannot_be_restarted_by_replaying_its_webhooks(tmp_path):
    app = _app(tmp_path / "data")
    call = PhoneCall(app).start().press("1")
    assert call.plays
    assert call.hang_up().status_code == 204
    for path, params in [("/ivr/gather", {"Digits": "1"}), ("/ivr/gather", {}), ("/ivr/voice", {"From": "+8613800000000"})]:
        answer = call.post(path, {"CallSid": call.sid, **params})
        assert answer.status_code == 200
        assert call.hung_up and not call.plays and not call.twiml.xpath("//Gather")


def test_a_finished_streaming_call_gets_no_new_token(tmp_path):
    app = _app(tmp_path / "data", phone_mode="stream")
    call = PhoneCall(app).start()
    token = call.twiml.xpath("string(//Parameter[@name='token']/@value)")
    assert token
    call.hang_up()
    call.post("/ivr/voice", {"CallSid": call.sid, "From": "+8613800000000"})
    assert call.hung_up and not call.twiml.xpath("//Stream")
    store = CallStore.open(app.config["TINGWEN_IVR"])
    assert not store.take_stream_token(call.sid, token)  # the token of a finished call is void
    store.close()


def _greeting_files(app):
    speaker = app.extensions["tingwen.speaker"]
    greeting = load_prompts().greeting
    return [speaker.cache.path_for(p.key, p.format.suffix) for p in speaker.plan(greeting, AudioFormat.ULAW)]


@pytest.mark.parametrize("damage", [b"", b"RIFF\x00\x00\x00\x00WAVEjunk", "truncate"])
def test_a_damaged_cached_greeting_is_made_again_not_served(tmp_path, damage, caplog):
    app = _app(tmp_path / "data")
    speaker = app.extensions["tingwen.speaker"]
    first = PhoneCall(app, sid="CAfirst000000000000000000000000000").start()
    for url in first.plays:
        assert first.client.get(url[len("https://ivr.example.gov.cn") :]).status_code == 200
    speaker.wait_ahead()
    files = _greeting_files(app)
    assert files and all(f.exists() for f in files)
    for path in files:
        whole = path.read_bytes()
        path.write_bytes(whole[: len(whole) // 2] if damage == "truncate" else damage)
        assert wav_problem(path)
    caplog.clear()
    call = PhoneCall(app, sid="CAsecond00000000000000000000000000").start()
    assert call.plays and not call.twiml.xpath("//Say")  # our voice, not Twilio's fallback
    for url in call.plays:
        served = call.client.get(url[len("https://ivr.example.gov.cn") :])
        assert served.status_code == 200
        assert len(ulaw_payload(served.data)) > 800  # real audio, not the broken bytes
    assert all(wav_problem(f) is None for f in files)  # repaired on disk
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("damaged cache file" in r.getMessage() for r in caplog.records)


def test_audio_cut_short_by_an_engine_is_never_cached(tmp_path):
    from speech.cache import AudioCache
    from speech.engine import EspeakCommand, VoiceSettings
    from speech.speaker import Speaker

    class CutShort(EspeakCommand):
        """The real espeak-ng, whose output then loses three quarters (an engine that stopped early)."""

        name = "cut-short"

        def synthesize(self, pinyin, out, settings):
            super().synthesize(pinyin, out, settings)
            with wave.open(str(out), "rb") as whole:
                params, audio = whole.getparams(), whole.readframes(whole.getnframes())
            with wave.open(str(out), "wb") as cut:
                cut.setparams(params)
                cut.writeframes(audio[: len(audio) // 4])

    speaker = Speaker(AudioCache(tmp_path / "audio"), VoiceSettings(), engine=CutShort(), fallback=EspeakCommand())
    text = "内蒙古自治区人民政府办公厅关于印发全区就业促进行动实施方案的通知。"
    made = speaker.render(text, AudioFormat.WAV)
    assert made.voice == "espeak-ng"  # the cut audio was refused and the fallback spoke
    assert made.seconds > 5
    cut = Speaker(AudioCache(tmp_path / "audio2"), VoiceSettings(), engine=CutShort())
    with pytest.raises(RuntimeError, match="cut short"):
        cut.render(text, AudioFormat.WAV)
    assert not list((tmp_path / "audio2").glob("??/*.wav"))


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB file system of its own (tmpfs) for the data folder, so it can be filled up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"needs root to mount a small file system: {done.stderr.strip()}")  # CI runs as root
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder):
    filler = folder / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * (1 << 20))
                out.flush()
        except OSError:
            pass
    try:  # the last few blocks too
        with open(filler, "ab") as out:
            while True:
                out.write(b"\0" * 4096)
                out.flush()
    except OSError:
        pass
    return filler


def test_a_full_disk_is_not_taken_for_a_writable_audio_cache(small_disk):
    """An empty probe file still fits on a full disk: the probe writes real bytes."""
    cache = AudioCache(small_disk / "audio")
    assert cache.writable()
    filler = _fill(small_disk)
    assert not cache.writable()
    assert not list(cache.folder.iterdir())  # no probe left behind
    os.remove(filler)
    _wait_for_room(small_disk)
    assert cache.writable()


def _wait_for_room(folder, seconds=5.0):
    """The filler's blocks come back once nobody holds it open (a child forked by another test's
    thread at that moment may, until it execs): wait for the file system to say so."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        room = os.statvfs(folder)
        if room.f_bavail * room.f_frsize >= 16 * 1024 * 1024:
            return
        time.sleep(0.05)
    raise AssertionError(f"{folder}: the filler's room did not come back")


@pytest.mark.parametrize("probe_again_seconds", [30.0, 0.0], ids=["fast machine", "slow machine"])
def test_a_full_disk_gets_an_apology_and_the_line_recovers(small_disk, caplog, monkeypatch, probe_again_seconds):
    """On a slow machine the voice is probed again between calls: an empty probe file fits on a
    full disk, and audio already named in the spare cache must still be served."""
    monkeypatch.setattr(speaker_module, "_PROBE_AGAIN_SECONDS", probe_again_seconds)
    app = _app(small_disk / "data")
    PhoneCall(app, sid="CAbefore0000000000000000000000000").start()
    filler = _fill(small_disk)
    sorry = load_prompts().unavailable
    for n in range(3):
        call = PhoneCall(app, sid=f"CAfull{n}0000000000000000000000000000"[:34])
        call.start()
        assert call.last.status_code == 200, call.last.data[:300]
        assert call.hung_up
        said = "".join(call.twiml.xpath("//Say/text()"))
        assert call.plays or sorry.rstrip("。") in said
        if call.plays:  # our own audio of the apology, served even now
            assert load_prompts().unavailable  # the planned text is the apology
            for url in call.plays:
                assert call.client.get(url[len("https://ivr.example.gov.cn") :]).status_code == 200
        assert call.post("/ivr/gather", {"CallSid": call.sid, "Digits": "1"}).status_code == 200
        # the call could not be stored when it began (the disk was full), so its end is of a call
        # we do not know (404), or the log cannot take it (503, Twilio may retry): never a 500
        assert call.hang_up().status_code in (404, 503)
    assert app.test_client().get("/kiosk/speech/card/1").status_code in (200, 503)
    assert app.test_client().get("/").status_code in (200, 503)
    assert not [r for r in caplog.records if "Traceback" in r.getMessage()]
    os.remove(filler)
    _wait_for_room(filler.parent)
    call = PhoneCall(app, sid="CAafter00000000000000000000000000").start()
    assert call.plays and not call.hung_up  # the greeting and the menu again
    assert call.press("1").plays
    assert call.hang_up().status_code == 204


@pytest.fixture
def stream_app(tmp_path, korean_model):
    app = _app(
        tmp_path / "data", phone_mode="stream", vosk_model=str(korean_model.path), commands_file=str(FIXTURES / "commands_ko.toml")
    )
    app.config["TINGWEN_IVR"] = dataclasses.replace(app.config["TINGWEN_IVR"], stream_lead_ms=600_000)
    assert app.extensions["tingwen.speech_model"].checked.wait(60)
    port, stop = live_app(app)
    yield app, port
    stop()


def _marks(messages):
    return sum(m["event"] == "mark" for m in messages)


def test_malformed_stream_messages_are_logged_and_ignored(stream_app, caplog):
    app, port = stream_app
    call = TwilioStream(app, port).answer().connect()
    try:
        call.wait_for(lambda ms: _marks(ms) >= 1)
        for bad in [
            {"event": "dtmf", "streamSid": call.stream_sid, "dtmf": "str"},
            {"event": "dtmf", "streamSid": call.stream_sid, "dtmf": ["4"]},
            {"event": "mark", "streamSid": call.stream_sid, "mark": "m"},
            {"event": "media", "streamSid": call.stream_sid, "media": "payload"},
            {"event": 5},
            "5",
            "null",
            "[" * 3000 + "]" * 3000,
        ]:
            call.send(bad)
        call.press("4")
        messages = call.wait_for(lambda ms: any(m["event"] == "clear" for m in ms))
        assert messages[-1]["event"] != "closed"
        call.hang_up()  # the call went on to its normal end
    finally:
        call.close()
    store = CallStore.open(app.config["TINGWEN_IVR"])
    status = store.db.execute("SELECT status FROM calls WHERE sid = ?", [call.sid]).fetchone()[0]
    store.close()
    assert status == "completed"
    assert sum("malformed message ignored" in r.getMessage() for r in caplog.records) >= 6


def test_a_failing_recogniser_is_logged_and_keys_still_work(stream_app, korean_speech, caplog, monkeypatch):
    from speech import recognizer

    def broken(self, audio):
        raise RuntimeError("recogniser exploded")

    monkeypatch.setattr(recognizer.Session, "feed", broken)
    app, port = stream_app
    call = TwilioStream(app, port).answer().connect()
    try:
        call.wait_for(lambda ms: _marks(ms) >= 1)
        call.speak(b"\xff" * 1600)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any("recogniser failed" in r.getMessage() for r in caplog.records):
            time.sleep(0.05)
        assert any("recogniser failed" in r.getMessage() and "exploded" in r.getMessage() for r in caplog.records)
        call.press("4")
        call.wait_for(lambda ms: any(m["event"] == "clear" for m in ms))
    finally:
        call.close()
