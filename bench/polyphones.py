"""What reading polyphones from their sentence costs: milliseconds a sentence for the front end
of speech/pronounce.py (lists, construction rules, dictionaries, the BiLSTM and combiner) beside
today's pypinyin alone, on the same sentences in one process, rounds taken in turn, and the
resident memory it adds (the gazetteer, the weights, CC-CEDICT's words, the segmenter).

    .venv/bin/python bench/polyphones.py           # every sentence of the bundled and sample notices, 7 rounds
    .venv/bin/python bench/polyphones.py --tiny    # 20 sentences, 2 rounds (CI runs this)

Goals (issue 29): at most 2 ms a sentence and at most 50 MB more resident, on 2 cores.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def sentences(limit: int | None) -> list[str]:
    from content.ingest import bundled_corpus, parse_file
    from content.reading import all_sentences
    from speech.normalize import normalize

    paths = [bundled_corpus(), *sorted((ROOT / "tests/fixtures/real").glob("*.txt"))]
    found = [normalize(s) for path in paths for s in all_sentences(parse_file(path))]
    return [s for s in found if s.strip()][:limit]


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def memory_child(limit: int | None) -> None:
    """In a fresh process: resident memory with today's reading (pypinyin and our list, and the
    segmenter that speech/words.py already loads to cut chunks), then with the gazetteer and the
    context model loaded and used."""
    from pypinyin import Style, lazy_pinyin

    from speech import pronounce
    from speech.words import warm_up

    warm_up()

    texts = sentences(limit)
    gazetteers, pronounce.GAZETTEERS = pronounce.GAZETTEERS, ()
    pronounce.load_dictionary()
    for text in texts:
        lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)
    before = resident_mb()
    pronounce.GAZETTEERS = gazetteers
    pronounce.load_dictionary()
    for text in texts:
        pronounce.to_pinyin(text)
    print(f"{before:.1f} {resident_mb():.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    limit, rounds = (20, 2) if args.tiny else (None, args.rounds)
    if args.memory_child:
        memory_child(limit)
        return
    from pypinyin import Style, lazy_pinyin

    from speech.pronounce import load_dictionary, to_pinyin

    texts = sentences(limit)
    load_dictionary()
    to_pinyin(texts[0])  # weights, dictionaries and segmenter loaded, as a server does at start

    def today() -> None:
        for text in texts:
            lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True)

    def now() -> None:
        for text in texts:
            to_pinyin(text)

    timings: dict[str, list[float]] = {"today": [], "now": []}
    for number in range(rounds):
        for name, run in ((("today", today), ("now", now)) if number % 2 else (("now", now), ("today", today))):
            started = time.perf_counter()
            run()
            timings[name].append((time.perf_counter() - started) * 1000 / len(texts))
    before, after = statistics.median(timings["today"]), statistics.median(timings["now"])
    child = subprocess.run([sys.executable, __file__, "--memory-child", *(["--tiny"] if args.tiny else [])],
                           capture_output=True, text=True, check=True, timeout=600)
    rss_before, rss_after = map(float, child.stdout.split())
    characters = sum(len(t) for t in texts) / len(texts)
    print(f"{len(texts)} sentences (mean {characters:.0f} characters), median of {rounds} rounds:")
    print(f"  today (pypinyin alone)              {before:7.3f} ms a sentence")
    print(f"  now (rules, dictionaries, model)    {after:7.3f} ms a sentence   (goal at most 2 ms)")
    print(f"  cost now / today: {after / before:.2f}x")
    print(f"  resident: {rss_before:.1f} MB today, {rss_after:.1f} MB now: {rss_after - rss_before:+.1f} MB (goal at most +50 MB)")


if __name__ == "__main__":
    main()
