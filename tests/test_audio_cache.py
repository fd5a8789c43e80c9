"""The audio cache returns the same file for the same text, a new one when the voice changes,
stays whole under concurrent writers, and keeps to its size bound."""

import threading
import time

from speech.cache import AudioCache, cache_key
from speech.engine import EspeakCommand, VoiceSettings
from speech.speaker import Speaker
from speech.utterances import AudioFormat

TEXT = "请依法依规做好各项工作。"


class CountingEngine(EspeakCommand):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def synthesize(self, pinyin, out, settings):
        self.calls += 1
        super().synthesize(pinyin, out, settings)


def test_same_text_same_file_without_synthesis(tmp_path):
    engine = CountingEngine()
    speaker = Speaker(AudioCache(tmp_path), VoiceSettings(), engine=engine)
    first = speaker.render(TEXT)
    inode = first.path.stat().st_ino
    again = speaker.render(TEXT)
    assert engine.calls == 1
    assert again.path == first.path and again.path.stat().st_ino == inode
    assert again.seconds == first.seconds


def test_rate_and_format_change_the_file(speaker_factory, tmp_path):
    normal = speaker_factory(rate=130, cache_dir=tmp_path).render(TEXT)
    slower = speaker_factory(rate=100, cache_dir=tmp_path).render(TEXT)
    phone = speaker_factory(rate=130, cache_dir=tmp_path).render(TEXT, AudioFormat.ULAW)
    assert len({normal.path, slower.path, phone.path}) == 3
    assert slower.seconds > normal.seconds


def test_concurrent_writers_leave_one_whole_file(tmp_path):
    cache = AudioCache(tmp_path)
    key = cache_key("same")
    payload = b"RIFF" + b"x" * 100_000

    def write(path):
        for start in range(0, len(payload), 10_000):
            with path.open("ab") as handle:
                handle.write(payload[start : start + 10_000])
            time.sleep(0.001)

    threads = [threading.Thread(target=cache.put, args=(key, ".wav", write)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert cache.get(key, ".wav").read_bytes() == payload
    assert [p.name for p in tmp_path.rglob(".tmp-*")] == []


def test_threads_that_find_the_cache_full_at_once_share_one_spare(tmp_path):
    """Callers and the background renderer can hit a full disk at the same moment: every name
    any of them is handed must still be served, from one spare, and the real cache is used
    again (with what the spare holds still found) once it takes files."""
    folder = tmp_path / "audio"
    speaker = Speaker(AudioCache(folder), VoiceSettings(), engine=EspeakCommand())
    speaker.can_speak()
    folder.rename(tmp_path / "moved")
    folder.write_text("not a folder")  # root ignores permissions: a file where the folder was
    start = threading.Barrier(8)
    named: list[str] = []

    def plan(n):
        start.wait()
        named.extend(p.name for p in speaker.plan(f"第{n + 1}条通知的第一句话。", AudioFormat.ULAW))

    threads = [threading.Thread(target=plan, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(named) == 8
    assert speaker.spare_cache is not None and speaker.cache is speaker.spare_cache
    folder.unlink()
    (tmp_path / "moved").rename(folder)
    speaker._checked_at = None  # the next probe finds the real cache taking files
    assert speaker.can_speak() and speaker.cache is speaker.primary_cache
    for name in named:
        path = speaker.audio_file(name, AudioFormat.ULAW)
        assert path is not None and path.stat().st_size > 1000, name


def test_failed_write_leaves_nothing(tmp_path):
    cache = AudioCache(tmp_path)

    def fail(path):
        path.write_bytes(b"half")
        raise RuntimeError("engine died")

    try:
        cache.put(cache_key("x"), ".wav", fail)
    except RuntimeError:
        pass
    assert cache.get(cache_key("x"), ".wav") is None
    assert list(tmp_path.rglob("*.wav")) == []


def test_least_recently_used_entries_are_evicted(tmp_path):
    cache = AudioCache(tmp_path, max_bytes=10_000)
    keys = [cache_key(i) for i in range(5)]
    for i, key in enumerate(keys):
        cache.put(key, ".wav", lambda p: p.write_bytes(b"a" * 3_000))
        time.sleep(0.01)
        if i == 2:
            cache.get(keys[0], ".wav")  # used again: should survive
    assert cache.size() <= 10_000
    survivors = [i for i, key in enumerate(keys) if cache.get(key, ".wav") is not None]
    assert survivors == [0, 3, 4]  # 1 and 2 were the least recently used
