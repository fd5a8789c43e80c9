"""Silence per minute of reading on the webhook phone line, one sentence per Gather (before)
against several sentences per Gather (now), in one run.

    .venv/bin/python bench/phone_reading.py           # the longest bundled notice, read from the start
    .venv/bin/python bench/phone_reading.py --tiny    # its first sentences (CI runs this)

A caller presses 4 (a notice) and 9 (read it all) and listens. Twilio's part is played here: each
<Play> lasts as long as its audio; when a Gather's audio has played, Twilio waits the Gather's
timeout (1 s, its least), then posts the next webhook, which takes our measured server time plus
NETWORK_SECONDS for the round trip. Silence is counted in the audio itself (20 ms frames under
-45 dBFS: the voice's own pauses) and in those gaps, per minute of listening.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from lxml import etree  # noqa: E402

from server import Config, create_app  # noqa: E402
from speech.audio import PHONE_RATE, speech_level, ulaw_decode, ulaw_payload  # noqa: E402

NETWORK_SECONDS = 0.15  # Twilio to us and back, assumed (not measurable on loopback)
PUBLIC = "http://127.0.0.1:8000"


def audio_silence(data: bytes) -> tuple[float, float]:
    """(seconds, silent seconds) of a mu-law WAV as served."""
    samples = ulaw_decode(ulaw_payload(data))
    frame = PHONE_RATE // 50
    silent = sum(1 for i in range(0, len(samples) - frame + 1, frame) if speech_level(samples[i : i + frame], PHONE_RATE) is None)
    return len(samples) / PHONE_RATE, silent * frame / PHONE_RATE


def listen(batch: int, data_dir: Path, voice: str, max_gathers: int) -> dict:
    app = create_app(Config(data_dir=data_dir, voice=voice, skip_twilio_signature=True, prerender=False,
                            public_url=PUBLIC, reading_batch=batch))  # fmt: skip
    client = app.test_client()
    sid = f"CAreading{batch:023d}"

    def post(path: str, **form) -> tuple[etree._Element, float]:
        started = time.perf_counter()
        response = client.post(path, data={"CallSid": sid, **form})
        return etree.fromstring(response.data), time.perf_counter() - started

    post("/ivr/voice", From="+8610000000")
    post("/ivr/gather", Digits="4")
    twiml, _ = post("/ivr/gather", Digits="9")
    audio = silent = gaps = server = 0.0
    gathers = sentences = 0
    while twiml.xpath("string(//Gather/@timeout)") == "1" and gathers < max_gathers:
        gathers += 1
        for url in twiml.xpath("//Gather/Play/text()"):
            seconds, quiet = audio_silence(client.get(url[len(PUBLIC) :]).data)
            audio += seconds
            silent += quiet
            sentences += 1
        twiml, took = post("/ivr/gather")
        server += took
        gaps += 1.0 + took + NETWORK_SECONDS
    app.extensions["tingwen.speaker"].wait_ahead(600)  # nothing left writing into the data folder
    total = audio + gaps
    return {"batch": batch, "gathers": gathers, "chunks": sentences, "minutes": total / 60, "audio_silence": silent,
            "gaps": gaps, "server": server}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--voice", default="neural")
    parser.add_argument("--batch", type=int, default=8, help="sentences per Gather now (before: 1)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)  # one data folder: the second run hears the same, already made, audio
        before = listen(1, data, args.voice, 4 if args.tiny else 10_000)
        now = listen(args.batch, data, args.voice, 1 if args.tiny else 10_000)
    print(f"notice 4 read from the start, voice {args.voice}{' (tiny)' if args.tiny else ''}; "
          f"a Gather's timeout 1 s + server time + {NETWORK_SECONDS:.2f} s network per webhook")
    print(f"{'':<40}{'before (1)':>14}{f'now ({args.batch})':>14}")
    for label, key in (("webhooks while reading", "gathers"), ("audio chunks heard", "chunks")):
        print(f"{label:<40}{before[key]:>14}{now[key]:>14}")
    for label, value in (
        ("gaps between Gathers, s per minute", lambda r: r["gaps"] / r["minutes"]),
        ("voice's own pauses, s per minute", lambda r: r["audio_silence"] / r["minutes"]),
        ("all silence, s per minute", lambda r: (r["gaps"] + r["audio_silence"]) / r["minutes"]),
        ("server time per webhook, ms", lambda r: 1000 * r["server"] / max(1, r["gathers"])),
    ):
        b, n = value(before), value(now)
        print(f"{label:<40}{b:>14.1f}{n:>14.1f}")
    ratio = (now["gaps"] + now["audio_silence"]) / now["minutes"] / max(1e-9, (before["gaps"] + before["audio_silence"]) / before["minutes"])
    print(f"silence per minute, now against before: {ratio:.2f}x")
    if not np.isfinite(ratio):
        raise SystemExit("no reading was measured")


if __name__ == "__main__":
    main()
