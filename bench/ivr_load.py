"""Phone-line load benchmark: concurrent simulated calls against the app under gunicorn.

    .venv/bin/python bench/ivr_load.py [--calls 200] [--seconds 60] [--think 2.0]

Starts the real app (bundled notices, audio pre-rendered as `tingwen prerender` would) and a
minimal Flask endpoint that returns a fixed TwiML string, each under the same gunicorn settings
on loopback, and drives each with the same load: N simulated calls, each signing its webhooks
with Twilio's RequestValidator, following the menu with keys and silences, and waiting `think`
seconds between webhooks as a caller listening to audio would; then the same load on two servers
sharing one PostgreSQL. Prints p50/p99 webhook latency, throughput and errors for each, the
ratios, the servers' CPU per webhook under the load (gunicorn's master and workers, and the
PostgreSQL server's; what the p99 ratio follows on a machine this small), and the line's own
sequential cost per webhook (one thread, Flask's test client).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: bench.postgres_cluster beside it
TOKEN = "bench-auth-token"
FIXED_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/ivr/gather" numDigits="1">'
    "<Play>http://127.0.0.1/a.wav</Play></Gather></Response>"
)
# What simulated callers do after answering: keys, and "" for a Gather that ended in silence.
SCRIPTS = [
    ["4", "1", "", "", "#", "", "*", "3", "2", "", "*", "*"],
    ["6", "2", "1", "", "", "0", "*", "*", "9", "", "", "#", "*"],
    ["", "7", "9", "", "", "", "#", "", "*", "*"],
    ["8", "1", "", "*", "0", "2", "", "*"],
]

minimal_app = Flask("minimal")


@minimal_app.post("/ivr/<path:anything>")
def fixed_twiml(anything: str):
    return FIXED_TWIML, 200, {"Content-Type": "text/xml"}


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds the servers spent meanwhile, by what spent it

    def add(self, seconds: float | None) -> None:
        with self.lock:
            if seconds is None:
                self.errors += 1
            else:
                self.latencies.append(seconds)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


READY = "prepared"  # each tingwen worker's log line once what listeners hear is prepared (server.serving_app)


def start_gunicorn(target: str, port: int, env: dict, workers: int, threads: int, ready_line: str | None = None) -> subprocess.Popen:
    """gunicorn on loopback, returned once it answers fast; with `ready_line`, also once every
    worker has logged it (a worker still starting would otherwise take its first calls while
    its neighbours already answer, and its start-up would be measured as the line's cost)."""
    command = [
        sys.executable, "-m", "gunicorn", target, "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", str(threads), "--worker-class", "gthread",
        "--keep-alive", "75", "--log-level", "warning", "--chdir", str(ROOT),
    ]  # fmt: skip
    log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    process.log_path = log.name
    deadline = time.time() + 120
    fast_in_a_row = 0
    while time.time() < deadline and fast_in_a_row < 40:
        # The port opens before the workers have built the app: wait until fresh connections
        # (spread over the workers) answer fast many times in a row.
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn {target} exited: {Path(log.name).read_text()[-2000:]}")
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/")
            connection.getresponse().read()
            connection.close()
            fast_in_a_row = fast_in_a_row + 1 if time.perf_counter() - started < 0.05 else 0
        except (OSError, http.client.HTTPException):
            fast_in_a_row = 0
            time.sleep(0.2)
    while ready_line and time.time() < deadline and Path(log.name).read_text(errors="replace").count(ready_line) < workers:
        time.sleep(0.2)
    if fast_in_a_row < 40 or (ready_line and Path(log.name).read_text(errors="replace").count(ready_line) < workers):
        process.kill()
        raise RuntimeError(f"gunicorn {target} did not become ready on port {port}")
    return process


def caller(number: int, ports: list[int], public: str, until: float, think: float, results: Results) -> None:
    """One simulated caller after another; with several ports (servers behind a load balancer),
    each webhook of a call goes to the next server in turn."""
    validator = RequestValidator(TOKEN)
    connections = {port: http.client.HTTPConnection("127.0.0.1", port, timeout=10) for port in ports}
    rng = random.Random(number)
    time.sleep(rng.uniform(0, think))  # calls do not all start in the same instant
    call = 0
    while time.time() < until:
        call += 1
        sid = f"CA{number:06d}{call:026d}"
        steps = [("/ivr/voice", None)] + [("/ivr/gather", key) for key in SCRIPTS[(number + call) % len(SCRIPTS)]]
        for step, (path, key) in enumerate(steps):
            if time.time() >= until:
                return
            port = ports[(number + step) % len(ports)]
            params = {"CallSid": sid, "From": f"+86138{number:08d}"}
            if key:
                params["Digits"] = key
            body = urllib.parse.urlencode(params)
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": validator.compute_signature(public + path, params),
            }
            started = time.perf_counter()
            try:
                connections[port].request("POST", path, body=body, headers=headers)
                response = connections[port].getresponse()
                payload = response.read()
                ok = response.status == 200 and b"<Response>" in payload
                results.add(time.perf_counter() - started if ok else None)
            except (OSError, http.client.HTTPException):
                results.add(None)
                connections[port].close()
                connections[port] = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            time.sleep(think * rng.uniform(0.5, 1.5))


def drive(
    ports: list[int], public: str, calls: int, seconds: float, think: float, servers: dict[str, list[int]] | None = None,
) -> tuple[Results, float]:
    """The load on `ports`; with `servers` ({what: process ids}), also the CPU seconds each of
    those process trees spent meanwhile."""
    results = Results()
    until = time.time() + seconds
    threads = [threading.Thread(target=caller, args=(n, ports, public, until, think, results), daemon=True) for n in range(calls)]
    before = {what: sum(tree_cpu_seconds(pid) for pid in pids) for what, pids in (servers or {}).items()}
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - started
    results.cpu = {what: sum(tree_cpu_seconds(pid) for pid in pids) - before[what] for what, pids in (servers or {}).items()}
    return results, elapsed


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds (user and system) spent so far by process `pid` and its children (gunicorn's
    workers, PostgreSQL's backends), from Linux's /proc; 0 where there is none."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def show_server_errors(process: subprocess.Popen, results: Results) -> None:
    if results.errors:
        print(f"server log ({process.log_path}), last lines:")
        print("\n".join(Path(process.log_path).read_text().splitlines()[-15:]))


def report(name: str, results: Results, elapsed: float) -> float:
    ordered = sorted(results.latencies)
    p50 = statistics.median(ordered) * 1000 if ordered else float("nan")
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000 if ordered else float("nan")
    total = len(ordered) + results.errors
    print(
        f"{name:<26} requests {total:6d}  throughput {total / elapsed:7.1f}/s  "
        f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  errors {results.errors}"
    )
    return p99


# The load benches measure the line, not the voice (bench/tts.py does): the quick voice, and
# no background prerender in each worker, since prepare_data has rendered everything already.
LINE_ONLY = {"TINGWEN_VOICE": os.environ.get("TINGWEN_VOICE", "espeak"), "TINGWEN_PRERENDER": "0"}


def prepare_data(env: dict, render: bool = True) -> None:
    """The bundled notices ingested and (with `render`) their phone audio rendered, as `tingwen
    prerender` does. Every part of the bench shares one audio folder (TINGWEN_AUDIO_DIR), as
    servers may: the audio is rendered once, and the later parts only ingest."""
    tingwen = [sys.executable, "-c", "import server; server.main()"]
    corpus = str(ROOT / "content/data/nmg-government-documents-2025.txt")
    subprocess.run([*tingwen, "ingest", corpus, "--issuer", "内蒙古自治区人民政府"], env=env, check=True, capture_output=True, cwd=ROOT)
    if not render:
        return
    print("pre-rendering phone audio ...", flush=True)
    for attempt in range(3):  # libespeak-ng inside pyttsx3 has segfaulted now and then: what is made stays made
        done = subprocess.run([*tingwen, "prerender", "--format", "ulaw"], env=env, capture_output=True, cwd=ROOT)
        if done.returncode >= 0:
            break
        print(f"prerender died by signal {-done.returncode}; going on from what it made", flush=True)
    if done.returncode != 0:
        raise SystemExit(f"prerender failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=2.0, help="seconds a caller listens between webhooks")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 2) * 2)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--tiny", action="store_true", help="four calls for a few seconds: checks that the bench runs (CI)")
    args = parser.parse_args()
    if args.tiny:
        args.calls, args.seconds, args.workers, args.threads = 4, 3.0, 1, 4

    with tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as audio:
        port = free_port()
        env = os.environ | {
            "TINGWEN_DATA_DIR": data,
            "TINGWEN_AUDIO_DIR": audio,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TINGWEN_PUBLIC_URL": f"http://127.0.0.1:{port}",
            **LINE_ONLY,
        }
        env.pop("TINGWEN_SKIP_TWILIO_SIGNATURE", None)
        prepare_data(env)
        print(f"{args.calls} calls for {args.seconds:.0f} s each run, {args.think} s listening between webhooks, "
              f"gunicorn {args.workers} workers x {args.threads} threads", flush=True)  # fmt: skip
        app = start_gunicorn("server:serving_app()", port, env, args.workers, args.threads, READY)
        try:
            ours, ours_elapsed = drive([port], env["TINGWEN_PUBLIC_URL"], args.calls, args.seconds, args.think, {"tingwen": [app.pid]})
        finally:
            app.terminate()
            app.wait(timeout=30)
        show_server_errors(app, ours)

        minimal_port = free_port()
        minimal = start_gunicorn("bench.ivr_load:minimal_app", minimal_port, env, args.workers, args.threads)
        try:
            base, base_elapsed = drive([minimal_port], f"http://127.0.0.1:{minimal_port}", args.calls, args.seconds, args.think,
                                       {"minimal": [minimal.pid]})  # fmt: skip
        finally:
            minimal.terminate()
            minimal.wait(timeout=30)

        shared, shared_elapsed = two_servers_on_postgres(args, Path(audio))
        sequential_ms, sequential_cpu_ms = sequential_cost(40 if args.tiny else 400, Path(audio))
    print()
    base_p99 = report("minimal fixed-TwiML Flask", base, base_elapsed)
    our_p99 = report("tingwen, 1 server, SQLite", ours, ours_elapsed)
    shared_p99 = report("tingwen, 2 servers, PgSQL", shared, shared_elapsed)
    print(f"p99 ratio tingwen / minimal: {our_p99 / base_p99:.2f}x   (target: p99 < 50 ms, zero errors)")
    print(f"p99 ratio two servers on PostgreSQL / one on SQLite: {shared_p99 / our_p99:.2f}x  "
          f"(every call's webhooks alternate between the two; each server has half the workers; target <= 1.2x)")  # fmt: skip
    minimal_cpu, our_cpu = cpu_per_webhook(base, "minimal"), cpu_per_webhook(ours, "tingwen")
    compared = f"{our_cpu / minimal_cpu:.2f}x" if minimal_cpu and our_cpu else "too short a run to compare"  # whole clock ticks
    print(f"servers' CPU per webhook under the load: minimal {minimal_cpu:.2f} ms, tingwen on SQLite {our_cpu:.2f} ms "
          f"({compared}), two servers on PostgreSQL {cpu_per_webhook(shared, 'tingwen'):.2f} ms "
          f"and the database server's {cpu_per_webhook(shared, 'PostgreSQL'):.2f} ms")  # fmt: skip
    print(f"sequential cost per webhook, one thread, no network: {sequential_ms:.2f} ms ({sequential_cpu_ms:.2f} ms of CPU; target <= 3 ms)")


def cpu_per_webhook(results: Results, what: str) -> float:
    """Milliseconds of CPU that `what` spent per webhook answered or refused."""
    return results.cpu.get(what, 0.0) * 1000 / max(1, len(results.latencies) + results.errors)


def sequential_cost(webhooks: int, audio: Path) -> tuple[float, float]:
    """(ms of wall time, ms of CPU) per webhook, one after another in one thread through the
    Flask test client: the line's own cost with no network and no concurrency (the phone audio
    already rendered in `audio`)."""
    from server import Config, create_app

    with tempfile.TemporaryDirectory() as data:
        env = os.environ | {"TINGWEN_DATA_DIR": data, "TINGWEN_AUDIO_DIR": str(audio), **LINE_ONLY}
        prepare_data(env, render=False)
        app = create_app(Config(data_dir=Path(data), audio_folder=str(audio), voice=LINE_ONLY["TINGWEN_VOICE"], prerender=False,
                                twilio_auth_token=TOKEN, public_url="http://127.0.0.1"))  # fmt: skip
        client = app.test_client()
        validator = RequestValidator(TOKEN)

        def post(path: str, params: dict) -> None:
            signature = validator.compute_signature("http://127.0.0.1" + path, params)
            answer = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
            if answer.status_code != 200:
                raise SystemExit(f"{path} answered {answer.status_code}")

        def calls():
            number = 0
            while True:
                number += 1
                sid = f"CA{number:032d}"
                yield "/ivr/voice", {"CallSid": sid, "From": "+8613800000000"}
                for key in SCRIPTS[number % len(SCRIPTS)]:
                    yield "/ivr/gather", {"CallSid": sid, "From": "+8613800000000", **({"Digits": key} if key else {})}

        steps = calls()
        for _ in range(40):  # warm: the menu built, the audio names known
            post(*next(steps))
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(webhooks):
            post(*next(steps))
        return (time.perf_counter() - wall) * 1000 / webhooks, (time.process_time() - cpu) * 1000 / webhooks


def two_servers_on_postgres(args, audio: Path) -> tuple[Results, float]:
    """The same load on two servers sharing one PostgreSQL and one audio folder (`audio`, already
    rendered), each call's webhooks alternating between them (as behind a load balancer)."""
    from bench.postgres_cluster import Cluster

    with tempfile.TemporaryDirectory() as folder:
        cluster = Cluster(Path(folder) / "postgres").start()
        servers = []
        try:
            public = "http://loadbalancer.invalid"
            ports = [free_port(), free_port()]
            shared = {"TINGWEN_DATABASE_URL": cluster.database(), "TINGWEN_AUDIO_DIR": str(audio)}
            envs = [
                os.environ | {"TINGWEN_DATA_DIR": str(Path(folder) / f"server-{n}"), "TWILIO_AUTH_TOKEN": TOKEN,
                              "TINGWEN_PUBLIC_URL": public, **LINE_ONLY, **shared}
                for n in range(2)
            ]  # fmt: skip
            for env in envs:
                env.pop("TINGWEN_SKIP_TWILIO_SIGNATURE", None)
            prepare_data(envs[0], render=False)
            workers = max(1, args.workers // 2)
            servers = [start_gunicorn("server:serving_app()", port, env, workers, args.threads, READY) for port, env in zip(ports, envs)]
            measured = {"tingwen": [server.pid for server in servers], "PostgreSQL": [cluster.pid()] if cluster.pid() else []}
            results, elapsed = drive(ports, public, args.calls, args.seconds, args.think, measured)
            for server in servers:
                show_server_errors(server, results)
            return results, elapsed
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
            cluster.stop()


if __name__ == "__main__":
    main()
