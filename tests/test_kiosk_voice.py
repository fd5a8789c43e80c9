"""Kiosk voice input in real Chromium: its fake microphone, fed a WAV file, reaches the server's
recogniser (Korean test model and vocabulary), and a spoken command acts like its key."""

import subprocess
import wave

import pytest
from conftest import CHROMIUM_ARGS, FIXTURES, live_app


@pytest.fixture(scope="module")
def voice_kiosk(tmp_path_factory, korean_model):
    from server import Config, create_app

    app = create_app(Config(data_dir=tmp_path_factory.mktemp("voice-kiosk"), prerender=False, vosk_model=str(korean_model.path),
                            commands_file=str(FIXTURES / "commands_ko.toml")))  # fmt: skip
    assert app.extensions["tingwen.speech_model"].checked.wait(60) and app.extensions["tingwen.speech_model"].available
    port, stop = live_app(app)
    yield f"http://127.0.0.1:{port}"
    stop()


@pytest.fixture(scope="module")
def stop_word_wav(tmp_path_factory):
    """멈춤 (stop, in the test vocabulary) with pauses, as a 48 kHz WAV for the fake microphone."""
    folder = tmp_path_factory.mktemp("mic")
    spoken = folder / "spoken.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "140", "-w", str(spoken), "멈춤"], check=True)
    with wave.open(str(spoken), "rb") as recording:
        pcm, rate = recording.readframes(recording.getnframes()), recording.getframerate()
    looped = folder / "mic.wav"
    with wave.open(str(looped), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * rate + pcm + b"\0\0" * rate)
    return looped


@pytest.fixture
def mic_page(playwright, stop_word_wav):
    args = CHROMIUM_ARGS + [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={stop_word_wav}",
    ]
    browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=args)
    context = browser.new_context(viewport={"width": 1080, "height": 1600}, permissions=["microphone"])
    yield context.new_page()
    browser.close()


def test_microphone_is_off_by_default_and_shows_when_on(mic_page, voice_kiosk):
    page = mic_page
    page.goto(voice_kiosk + "/")
    assert page.get_attribute("#mic", "aria-pressed") == "false"
    assert not page.evaluate("() => tingwen.listening()")
    page.click("#mic")
    page.wait_for_function("() => tingwen.listening()", timeout=10_000)
    assert page.get_attribute("#mic", "aria-pressed") == "true"
    assert "正在听" in page.inner_text("#status")


def test_spoken_stop_reaches_the_recogniser_and_stops_reading(mic_page, voice_kiosk):
    page = mic_page
    page.goto(voice_kiosk + "/notice/4")
    page.locator(".region .read-toggle").nth(2).click()  # a long part
    page.wait_for_function("() => !tingwen.player.paused && tingwen.player.currentTime > 0", timeout=10_000)
    page.click("#mic")
    # the fake microphone plays 멈춤 into the page; the server recognises it and the page acts as on *
    page.wait_for_function("() => tingwen.heard.some(m => m.intent === 'cancel')", timeout=30_000)
    page.wait_for_function("() => tingwen.player.paused", timeout=2_000)
    heard = page.evaluate("() => tingwen.heard")
    assert any(m.get("heard") == "멈춤" and m.get("bytes", 0) > 16000 for m in heard)
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(voice_kiosk + "/metrics", timeout=10) as answer:  # counted for operators
        understood = [s.value for f in text_string_to_metric_families(answer.read().decode()) for s in f.samples
                      if s.name == "tingwen_recognitions_total" and s.labels.get("result") == "understood"]
    assert understood and understood[0] >= 1
    assert set(page.eval_on_selector_all(".read-toggle", "els => els.map(e => e.getAttribute('aria-pressed'))")) == {"false"}


def test_hands_free_reads_on_and_listens(mic_page, voice_kiosk):
    page = mic_page
    page.goto(voice_kiosk + "/")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.click(".page-toggle")  # one press: read every latest notice in full, and listen
    page.wait_for_function("() => tingwen.listening() && !tingwen.player.paused", timeout=15_000)
    assert any("/kiosk/speech/full/" in url for url in requested)
    page.wait_for_function("() => tingwen.heard.some(m => m.intent === 'cancel')", timeout=30_000)
    page.wait_for_function("() => tingwen.player.paused", timeout=2_000)
