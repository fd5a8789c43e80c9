"""What the metrics cost the phone line: webhooks a second with recording on, beside the same
run with it off, in one process, rounds taken in turn (these machines are noisy).

    .venv/bin/python bench/metrics_cost.py           # 12 rounds of 150 calls (answer, two keys, the end)
    .venv/bin/python bench/metrics_cost.py --tiny    # 2 rounds of 10 (CI runs this)

Recording counts into files as under `tingwen serve` (the client's multiprocess mode); a scrape
of /metrics is made after every round, as Prometheus would. Goal: under 5% of throughput.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitoring import metrics  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--calls", type=int, default=150)
    args = parser.parse_args()
    rounds, calls = (2, 10) if args.tiny else (args.rounds, args.calls)
    with tempfile.TemporaryDirectory(prefix="tingwen-metrics-bench-", ignore_cleanup_errors=True) as folder:
        metrics.use_multiprocess(Path(folder) / "metrics")  # as `tingwen serve` does, before anything counts
        from server import Config, create_app

        app = create_app(Config(data_dir=Path(folder) / "data", voice="espeak", skip_twilio_signature=True, prerender=False,
                                public_url="http://127.0.0.1:8000"))
        client = app.test_client()

        def one_round(on: bool, number: int) -> float:
            metrics.set_enabled(on)
            started = time.perf_counter()
            for n in range(calls):
                sid = f"CA{int(on)}{number:05d}{n:026d}"
                client.post("/ivr/voice", data={"CallSid": sid, "From": "+8613800000000"})
                client.post("/ivr/gather", data={"CallSid": sid, "Digits": "1"})
                client.post("/ivr/gather", data={"CallSid": sid, "Digits": "*"})
                client.post("/ivr/status", data={"CallSid": sid, "CallStatus": "completed", "CallDuration": "20"})
            elapsed = time.perf_counter() - started
            metrics.set_enabled(True)
            assert client.get("/metrics").status_code == 200
            return calls * 4 / elapsed

        one_round(True, 0)  # warm: the menu, the audio names, the connections
        on, off = [], []
        for number in range(1, rounds + 1):
            first, second = (True, False) if number % 2 else (False, True)  # in turn, so drift hits both alike
            (on if first else off).append(one_round(first, number))
            (on if second else off).append(one_round(second, number))
        app.extensions["tingwen.speaker"].wait_ahead()  # the audio made ahead, before its folder goes
    with_metrics, without = statistics.median(on), statistics.median(off)
    print(f"webhooks a second, median of {rounds} rounds of {calls} calls (4 webhooks each):")
    print(f"  without metrics  {without:8.1f}")
    print(f"  with metrics     {with_metrics:8.1f}")
    print(f"  throughput with / without: {with_metrics / without:.3f}x  (cost {100 * (1 - with_metrics / without):+.1f}%; goal under 5%)")


if __name__ == "__main__":
    main()
