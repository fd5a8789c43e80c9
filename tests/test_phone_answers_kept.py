"""A webhook answers a turn it has answered before from the TwiML it kept (ivr/answers.py), but
only while every chunk of audio that answer names is still in the cache, and never across a
change in how words are read."""

from urllib.parse import urlparse

from lxml import etree
from conftest import PhoneCall, calls_of, phone_app


def _fetch_all(app, call) -> None:
    client = app.test_client()
    for url in call.plays:
        assert client.get(urlparse(url).path).status_code == 200, url  # made now if only planned


def _greeting(app, n: int) -> PhoneCall:
    return PhoneCall(app, sid=f"CA{n:032d}", caller=f"+86138000000{n:02d}").start()


def test_the_same_turn_is_answered_as_kept_while_its_audio_is_there(tmp_path, monkeypatch):
    app = phone_app(tmp_path / "data")
    speaker = app.extensions["tingwen.speaker"]
    _fetch_all(app, _greeting(app, 1))  # every chunk of the greeting made
    kept = _greeting(app, 2)  # answered with all its audio there: kept
    planned = calls_of(monkeypatch, speaker, "plan")

    again = _greeting(app, 3)
    assert again.last.data == kept.last.data
    assert planned == [], "a kept answer was built again"

    removed = speaker.cache.path_for(urlparse(kept.plays[1]).path.rsplit("/", 1)[1].removesuffix(".wav"), ".wav")
    assert removed.exists()
    removed.unlink()  # evicted, or removed as damaged
    after = _greeting(app, 4)
    assert planned, "an answer naming a missing chunk was handed out as kept"
    assert after.plays == kept.plays  # the same names: the missing chunk is planned and made again
    _fetch_all(app, after)
    assert removed.exists()


def test_the_same_turn_at_another_voice_is_another_answer(tmp_path):
    """Pace and loudness are part of what an answer is kept under: its audio has other names."""
    from content.menu import Say
    from content.menu_state import Listen, MenuState
    from ivr.views import respond

    app = phone_app(tmp_path / "data")
    actions = [Say("请按1。"), Listen(())]
    answers = {}
    for pace, loudness in [(0, 0), (-1, 0), (0, 1), (0, 0), (-1, 0)]:
        for _ in range(2):  # the second time with its audio made: kept
            with app.test_request_context("/ivr/gather", method="POST"):
                body = respond(None, MenuState(pace=pace, loudness=loudness), actions)[0]
            call = PhoneCall(app)
            call.twiml = etree.fromstring(body.encode())
            _fetch_all(app, call)
        answers.setdefault((pace, loudness), set()).add(body)
    assert all(len(bodies) == 1 for bodies in answers.values()), answers  # each voice: one answer, kept
    assert len({next(iter(b)) for b in answers.values()}) == 3  # three voices: three answers


def test_a_change_in_pronunciations_answers_afresh(tmp_path, monkeypatch, pypinyin_restored):
    app = phone_app(tmp_path / "data")
    speaker = app.extensions["tingwen.speaker"]
    _fetch_all(app, _greeting(app, 1))
    _greeting(app, 2)  # kept
    planned = calls_of(monkeypatch, speaker, "plan")
    _greeting(app, 3)
    assert planned == []
    speaker.pronunciations.write_text("银行 yin2 hang2\n", "utf-8")  # as built in: the reading itself stays
    assert speaker.refresh_pronunciations()
    _greeting(app, 4)
    assert planned, "an answer kept before the pronunciations changed was handed out"
