"""Memory of the running service: `tingwen serve` on a fresh data folder with the bundled notices,
pre-rendering everything in both formats, its peak memory sampled every 0.2 s, for the neural
voice against espeak-ng as the baseline: the resident memory of the largest process (the worker
that speaks), and the whole service's (the gunicorn master, its workers and any espeak-ng they
start), counted as proportional set size so pages a worker shares with the master after the
fork count once.

    .venv/bin/python bench/serve_memory.py           # until every text is pre-rendered (goal: neural < 400 MB)
    .venv/bin/python bench/serve_memory.py --tiny    # the first 15 s of the pass (CI runs this so it cannot rot)
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_MB = 400
TINY_SECONDS = 15.0
TIMEOUT_SECONDS = 1800.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _memory_kb(pid: int) -> tuple[int, int]:
    """(resident, proportional) memory of one process in kB, or zeros once it is gone."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    found = dict(re.findall(r"^(Rss|Pss):\s+(\d+) kB", rollup, re.M))
    return int(found.get("Rss", 0)), int(found.get("Pss", 0))


def _tree(root: int) -> list[int]:
    """`root` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            parent = int(re.search(r"^PPid:\s+(\d+)", status, re.M).group(1))
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def sample_mb(root: int) -> tuple[float, float]:
    """(the largest process's resident memory, the whole tree's proportional memory) in MB."""
    sizes = [_memory_kb(pid) for pid in _tree(root)]
    return max((rss for rss, _ in sizes), default=0) / 1024, sum(pss for _, pss in sizes) / 1024


def measure(voice: str, tiny: bool) -> dict:
    """Serve, watch the log for the end of the pre-render pass, and sample memory until then."""
    with tempfile.TemporaryDirectory(prefix="tingwen-bench-memory-") as data:
        port = _free_port()
        env = {**os.environ, "TINGWEN_VOICE": voice, "TINGWEN_ACCESS_LOG": ""}
        command = [sys.executable, "-m", "server", "--data-dir", data, "serve", "--port", str(port)]
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        done = threading.Event()
        ready_line: list[str] = []

        def read_log() -> None:
            for line in server.stderr:
                if "prerender: done" in line:
                    ready_line.append(line.strip())
                    done.set()
            done.set()

        threading.Thread(target=read_log, daemon=True).start()
        started = time.monotonic()
        largest = whole = 0.0
        limit = TINY_SECONDS if tiny else TIMEOUT_SECONDS
        try:
            while not done.is_set() and time.monotonic() - started < limit:
                process, tree = sample_mb(server.pid)
                largest, whole = max(largest, process), max(whole, tree)
                time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
                healthy = answer.status == 200
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
        if not tiny and not ready_line:
            raise SystemExit(f"the {voice} server did not finish pre-rendering within {limit:.0f} s")
        return {"voice": voice, "process_mb": largest, "peak_mb": whole, "seconds": time.monotonic() - started, "finished": bool(ready_line),
                "healthy": healthy}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help=f"only the first {TINY_SECONDS:.0f} s of the pass")
    args = parser.parse_args()
    baseline = measure("espeak", args.tiny)
    print("measured espeak", flush=True)
    neural = measure("neural", args.tiny)
    print("measured neural", flush=True)
    print()
    print(f"tingwen serve, fresh data folder, bundled notices, pre-rendering {'(first %.0f s only)' % TINY_SECONDS if args.tiny else 'everything'}")
    print(f"{'voice':<10}{'worker RSS MB':>15}{'service PSS MB':>16}{'seconds':>10}{'finished':>10}{'healthy':>10}")
    for r in (baseline, neural):
        print(f"{r['voice']:<10}{r['process_mb']:>15.0f}{r['peak_mb']:>16.0f}{r['seconds']:>10.0f}{str(r['finished']):>10}{str(r['healthy']):>10}")
    print(f"ratio neural / espeak-ng (baseline), whole service: {neural['peak_mb'] / baseline['peak_mb']:.2f}x")
    print(f"neural peak, whole service {neural['peak_mb']:.0f} MB, goal < {GOAL_MB} MB: {'met' if neural['peak_mb'] < GOAL_MB else 'NOT MET'}")


if __name__ == "__main__":
    main()
