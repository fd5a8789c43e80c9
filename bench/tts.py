"""Speech-out benchmark on the whole bundled corpus, against plain espeak-ng in the same run.

    .venv/bin/python bench/tts.py

Prints, for every menu prompt and every sentence of the seven notices (what the menu says and plays):
- time to first audio of a notice (its first chunk ready, cold cache),
- total render time with tingwen (normalise, chunk, pinyin, pyttsx3/espeak-ng, WAV/mu-law, cache),
  and its ratio to plain `espeak-ng` speaking the same pinyin, one process per text,
- time to serve a chunk from the cache.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from content.ingest import BUNDLED_ISSUER, bundled_corpus, read_text  # noqa: E402
from content.sources import listpage  # noqa: E402
from server import spoken_texts  # noqa: E402
from speech.cache import AudioCache  # noqa: E402
from speech.engine import VoiceSettings  # noqa: E402
from speech.normalize import normalize  # noqa: E402
from speech.pronounce import to_pinyin  # noqa: E402
from speech.speaker import AudioFormat, Speaker  # noqa: E402


def plain_espeak(texts: list[str], folder: Path, settings: VoiceSettings) -> float:
    """The physical floor: espeak-ng itself, one process per text, on the pinyin we would send."""
    pinyins = [to_pinyin(normalize(t)) for t in texts]
    started = time.perf_counter()
    for i, pinyin in enumerate(pinyins):
        subprocess.run(
            ["espeak-ng", "-v", settings.voice, "-s", str(settings.rate), "-w", str(folder / f"{i}.wav"), "--", pinyin],
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - started


def main() -> None:
    notices = listpage.parse(read_text(bundled_corpus()), "corpus", issuer=BUNDLED_ISSUER)
    texts = [t for t in spoken_texts(notices) if to_pinyin(normalize(t))]
    settings = VoiceSettings()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        speaker = Speaker(AudioCache(folder / "warm"), settings)
        speaker.render("您好。")  # start the engine outside the measurements

        first_audio = []
        for notice in notices:
            speaker.cache = AudioCache(folder / f"first-{len(first_audio)}")
            started = time.perf_counter()
            next(speaker.render_text(notice.spoken_title, AudioFormat.ULAW))
            first_audio.append(time.perf_counter() - started)

        results = {}
        for fmt in AudioFormat:
            speaker.cache = AudioCache(folder / f"all-{fmt}")
            started = time.perf_counter()
            chunks = [chunk for text in texts for chunk in speaker.render_text(text, fmt)]
            results[fmt] = (time.perf_counter() - started, chunks)
            print(f"rendered {len(chunks)} {fmt} chunks", flush=True)

        (folder / "plain").mkdir()
        plain_seconds = plain_espeak(texts, folder / "plain", settings)

        speaker.cache = AudioCache(folder / "all-wav")
        started = time.perf_counter()
        served = sum(1 for text in texts for _ in speaker.render_text(text, AudioFormat.WAV))
        cached_ms = (time.perf_counter() - started) / served * 1000

    audio_minutes = sum(c.seconds for c in results[AudioFormat.WAV][1]) / 60
    print()
    print(f"corpus: {len(texts)} texts, {audio_minutes:.0f} minutes of speech")
    print(f"time to first audio (a notice's first chunk, cold): median {statistics.median(first_audio) * 1000:.0f} ms,"
          f" max {max(first_audio) * 1000:.0f} ms  (target < 150 ms)")
    print(f"plain espeak-ng, same pinyin         : {plain_seconds:6.2f} s  (baseline)")
    for fmt, (seconds, _) in results.items():
        print(f"tingwen render, {fmt:<4}                 : {seconds:6.2f} s  ratio {seconds / plain_seconds:4.2f}x  (target <= 1.5x)")
    print(f"cached chunk served                  : {cached_ms:6.2f} ms per chunk  (target < 5 ms)")


if __name__ == "__main__":
    main()
