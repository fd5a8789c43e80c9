"""/feed.xml read as a podcast app reads it (feedparser), every enclosure a valid mono MP3 of
64 kb/s or less whose decoded length is the listed duration, Range requests, episodes made in
the background only, and the kiosk's QR code decoding to the feed's address."""

from __future__ import annotations

import io
import json
import time
from datetime import date

import feedparser
import miniaudio
import mutagen.mp3
import numpy as np
import pytest

from conftest import ARTIFACTS, live_app
from content.model import Notice, Section
from content.store import NoticeStore
from feed.episodes import episode_texts
from speech.audio import read_wav
from speech.utterances import AudioFormat

PUBLIC = "https://tingwen.example.gov.cn"


def small_notices() -> list[Notice]:
    """Three short notices (the bundled ones read for half an hour each)."""
    made = []
    for n, (title, what) in enumerate(
        [("关于提高城乡低保标准的通知", "提高城乡低保标准"), ("关于开展冬季安全用电检查的通知", "开展冬季安全用电检查"),
         ("关于做好老年人助餐服务的通知", "做好老年人助餐服务")]
    ):
        made.append(Notice(
            title=title, spoken_title=title, doc_number=f"内民发〔2026〕{n + 10}号", issuer="内蒙古自治区民政厅",
            body=f"各盟市民政局：经研究，决定自2026年12月1日起{what}。",
            published_date=date(2026, 11, 20 + n),
            sections=[Section("1", 1, "一、", "工作要求", f"各地区要在12月{n + 5}日前完成部署。请及时报送进展情况。")],
        ))
    return made


def make_app(data_dir, **settings):
    from server import Config, create_app

    with NoticeStore(data_dir / "tingwen.sqlite3") as store:
        store.save(small_notices())
    config = Config(data_dir=data_dir, voice="espeak", public_url=PUBLIC, **settings)
    app = create_app(config)
    app.testing = True
    return app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = make_app(tmp_path_factory.mktemp("feed"), prerender=True)
    assert app.extensions["tingwen.prerender"].done.wait(300), "prerender and the episodes did not finish"
    yield app
    app.extensions["tingwen.prerender"].stop()


@pytest.fixture(scope="module")
def parsed(app):
    response = app.test_client().get("/feed.xml")
    assert response.status_code == 200 and response.mimetype == "application/rss+xml"
    return feedparser.parse(response.data)


def listed(app) -> list[Notice]:
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        return store.latest()


def test_the_feed_parses_as_a_podcast_with_one_episode_per_notice(app, parsed):
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "听文·政府通知朗读" and parsed.feed.language == "zh-cn"
    assert parsed.feed.itunes_explicit is False and parsed.feed.image.href == f"{PUBLIC}/feed/cover.png"
    assert any(tag.term == "Government" for tag in parsed.feed.tags)
    notices = listed(app)
    assert [e.title for e in parsed.entries] == [n.spoken_title for n in notices]  # newest first
    for entry, notice in zip(parsed.entries, notices, strict=True):
        assert notice.gist and entry.summary == notice.gist
        assert entry.published_parsed[:3] == notice.published_date.timetuple()[:3]
        (enclosure,) = entry.enclosures
        assert enclosure.type == "audio/mpeg" and enclosure.href.startswith(f"{PUBLIC}/feed/episodes/")
        assert int(enclosure.length) > 1000 and entry.itunes_duration.count(":") == 2


def test_every_enclosure_is_a_mono_mp3_of_the_listed_length_and_duration(app, parsed):
    client = app.test_client()
    speaker = app.extensions["tingwen.speaker"]
    for entry, notice in zip(parsed.entries, listed(app), strict=True):
        (enclosure,) = entry.enclosures
        data = client.get(enclosure.href[len(PUBLIC):]).data
        assert len(data) == int(enclosure.length)
        info = mutagen.mp3.MP3(io.BytesIO(data)).info
        assert info.channels == 1 and info.bitrate <= 64_000 and info.sample_rate == 24_000
        decoded = miniaudio.mp3_read_s16(data)
        assert decoded.nchannels == 1
        seconds = decoded.num_frames / decoded.sample_rate
        h, m, s = map(int, entry.itunes_duration.split(":"))
        assert abs(seconds - (h * 3600 + m * 60 + s)) <= 1.0
        # What is heard is the notice read whole: as long as its chunks' audio, and not silence.
        expected = sum(read_wav(u.path).seconds for text in episode_texts(notice) for u in speaker.render_text(text, AudioFormat.WAV))
        assert abs(seconds - expected) < 0.2, (seconds, expected)
        samples = np.frombuffer(decoded.samples, dtype=np.int16).astype(np.float32)
        assert np.sqrt(np.mean(samples**2)) > 300
        assert expected > 5 * len(notice.spoken_title) / 7  # the title alone would be shorter


def test_episodes_answer_range_requests(app, parsed):
    client = app.test_client()
    url = parsed.entries[0].enclosures[0].href[len(PUBLIC):]
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["Accept-Ranges"] == "bytes"
    size = len(whole.data)
    first = client.get(url, headers={"Range": "bytes=0-99"})
    assert first.status_code == 206 and first.data == whole.data[:100]
    assert first.headers["Content-Range"] == f"bytes 0-99/{size}"
    middle = client.get(url, headers={"Range": f"bytes={size // 2}-{size // 2 + 4095}"})
    assert middle.status_code == 206 and middle.data == whole.data[size // 2 : size // 2 + 4096]
    tail = client.get(url, headers={"Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.data == whole.data[-500:]
    open_ended = client.get(url, headers={"Range": f"bytes={size - 10}-"})
    assert open_ended.status_code == 206 and open_ended.data == whole.data[-10:]
    beyond = client.get(url, headers={"Range": f"bytes={size + 10}-{size + 20}"})
    assert beyond.status_code == 416
    assert client.get(url, headers={"If-None-Match": whole.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("name", ["x.mp3", "../tingwen.sqlite3", "0" * 64 + ".wav", "0" * 64 + ".mp3", "index.json", "%00.mp3"])
def test_only_episode_files_are_served(app, name):
    assert app.test_client().get(f"/feed/episodes/{name}").status_code == 404


def test_episodes_are_made_in_the_background_never_in_a_request(tmp_path):
    app = make_app(tmp_path / "data", prerender=False)
    client = app.test_client()
    parsed = feedparser.parse(client.get("/feed.xml").data)
    assert not parsed.bozo and parsed.entries == []  # nothing made yet: nothing listed, nothing made now
    folder = app.config["TINGWEN"].episodes_dir
    assert not folder.exists() or not list(folder.glob("*.mp3"))


def test_a_published_notice_gets_its_episode_and_a_withdrawn_one_leaves(tmp_path):
    app = make_app(tmp_path / "data", prerender=True)
    prerender = app.extensions["tingwen.prerender"]
    try:
        assert prerender.done.wait(300)
        client = app.test_client()
        with NoticeStore(app.config["TINGWEN_DB"]) as store:
            added = Notice(title="关于发放取暖补贴的通知", spoken_title="关于发放取暖补贴的通知", body="各盟市：决定向困难群众发放取暖补贴。",
                           doc_number="内民发〔2026〕30号", published_date=date(2026, 11, 28))
            store.save([added])
            new_id = next(n.id for n in store.latest() if n.title == added.title)
        prerender.done.clear()
        prerender.poke()
        assert prerender.done.wait(300)
        entries = feedparser.parse(client.get("/feed.xml").data).entries
        assert entries[0].title == added.spoken_title and len(entries) == 4
        with NoticeStore(app.config["TINGWEN_DB"]) as store:
            store.set_withdrawn(new_id, True)
        entries = feedparser.parse(client.get("/feed.xml").data).entries
        assert [e.title for e in entries] == [n.spoken_title for n in listed(app)] and len(entries) == 3
    finally:
        prerender.stop()


def test_a_damaged_index_lists_nothing_until_made_again_never_a_500(tmp_path):
    app = make_app(tmp_path / "data", prerender=False)
    from server import make_episodes

    config = app.config["TINGWEN"]
    speaker = app.extensions["tingwen.speaker"]
    assert make_episodes(config, speaker) == 3
    assert make_episodes(config, speaker) == 0  # up to date: nothing made twice
    (config.episodes_dir / "index.json").write_bytes(b"\x00garbage{")
    client = app.test_client()
    response = client.get("/feed.xml")
    assert response.status_code == 200 and feedparser.parse(response.data).entries == []
    assert make_episodes(config, speaker) == 3
    assert len(feedparser.parse(client.get("/feed.xml").data).entries) == 3
    assert json.loads((config.episodes_dir / "index.json").read_text())


def test_the_kiosk_shows_a_qr_code_that_decodes_to_the_feed_address(tmp_path, browser):
    import zxingcpp
    from PIL import Image

    app = make_app(tmp_path / "data", prerender=False)
    port, stop = live_app(app)
    context = browser.new_context(viewport={"width": 1080, "height": 1600}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        code = page.locator("#feed-qr .qr")
        code.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "kiosk-feed-qr.png"), full_page=True)
        shot = code.screenshot()
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
        assert [r.text for r in found] == [f"{PUBLIC}/feed.xml"]
        assert f"{PUBLIC}/feed.xml" in page.locator("#feed-qr figcaption").inner_text()
    finally:
        context.close()
        stop()


def test_no_qr_code_for_an_address_only_this_machine_can_reach(tmp_path):
    from server import Config, create_app

    app = create_app(Config(data_dir=tmp_path / "data", voice="espeak", prerender=False))  # public URL unset: loopback
    page = app.test_client().get("/").get_data(as_text=True)
    assert "feed-qr" not in page and "<svg" not in page


def test_an_episode_folder_that_takes_no_files_is_said_in_one_line(tmp_path, caplog):
    from server import make_episodes

    app = make_app(tmp_path / "data", prerender=False)
    config = app.config["TINGWEN"]
    config.episodes_dir.parent.mkdir(parents=True, exist_ok=True)
    config.episodes_dir.write_text("a file where the folder should be")
    assert make_episodes(config, app.extensions["tingwen.speaker"]) == 0
    assert [r.levelname for r in caplog.records if "episodes cannot be kept" in r.getMessage()] == ["ERROR"]
    assert app.test_client().get("/feed.xml").status_code == 200


def test_an_episode_in_the_natural_voice_is_a_valid_mp3_of_its_length(tmp_path):
    """The service's default voice (the neural one, 24 kHz) makes the episodes in production."""
    from server import make_episodes

    with NoticeStore(tmp_path / "data" / "tingwen.sqlite3") as store:
        store.save(small_notices()[:1])
    from server import Config, create_app

    app = create_app(Config(data_dir=tmp_path / "data", public_url=PUBLIC, prerender=False))  # the default voice
    speaker = app.extensions["tingwen.speaker"]
    assert speaker.engine.name == "neural"
    config = app.config["TINGWEN"]
    assert make_episodes(config, speaker) == 1
    (entry,) = feedparser.parse(app.test_client().get("/feed.xml").data).entries
    data = app.test_client().get(entry.enclosures[0].href[len(PUBLIC):]).data
    info = mutagen.mp3.MP3(io.BytesIO(data)).info
    assert info.channels == 1 and info.bitrate <= 64_000
    decoded = miniaudio.mp3_read_s16(data)
    (notice,) = listed(app)
    expected = sum(read_wav(u.path).seconds for text in episode_texts(notice) for u in speaker.render_text(text, AudioFormat.WAV))
    assert abs(decoded.num_frames / decoded.sample_rate - expected) < 0.2
