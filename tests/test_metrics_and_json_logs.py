"""What operators watch: /metrics in Prometheus' text format, added up across `tingwen serve`'s
two workers (the client's multiprocess mode) and parsed with the client's own parser, moved by
real calls; streaming calls' time to first audio and * → clear; logs as JSON lines carrying the
call's id and never a caller's number."""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import PHONE_TOKEN, PhoneCall, live_app, phone_app
from twilio_stream import TwilioStream
from prometheus_client.parser import text_string_to_metric_families
from test_production_server import BIN, served  # noqa: F401  (the fixture)
from twilio.request_validator import RequestValidator

from monitoring.logs import masked

CALLER = "+8613812345678"
PUBLIC = "http://127.0.0.1:8000"


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample as {(name, sorted labels): value}, read by the client's own parser."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(found: dict, name: str, **labels) -> float:
    return sum(v for (n, ls), v in found.items() if n == name and all((k, v2) in ls for k, v2 in labels.items()))


def _post(base: str, path: str, params: dict) -> str:
    signature = RequestValidator(PHONE_TOKEN).compute_signature(PUBLIC + path, params)
    request = urllib.request.Request(base + path, data=urllib.parse.urlencode(params).encode(), headers={"X-Twilio-Signature": signature})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.read().decode()


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.status, answer.read().decode("utf-8", "replace")


def test_metrics_add_up_across_two_workers_after_real_calls(served):  # noqa: F811
    server = served([str(BIN / "tingwen"), "serve", "--port", "{port}"], TINGWEN_WORKERS="2", TINGWEN_THREADS="4",
                    TINGWEN_LOG_FORMAT="json")
    server.wait_ready()
    folder = Path(server.log_path).parent / "metrics"  # the workers' files, added up at each scrape
    asked = 0
    with ThreadPoolExecutor(8) as pool:
        for _ in range(50):  # until both workers have answered something (the kernel picks which)
            asked += len(list(pool.map(lambda _: _get(server.base + "/healthz"), range(16))))
            if len({p.stem.rsplit("_", 1)[1] for p in folder.glob("histogram_*.db")}) >= 2:
                break
    assert len({p.stem.rsplit("_", 1)[1] for p in folder.glob("histogram_*.db")}) >= 2
    calls = 12
    for n in range(calls):  # the kernel spreads the connections over both workers
        sid = f"CA{n:032d}"
        twiml = _post(server.base, "/ivr/voice", {"CallSid": sid, "From": CALLER, "CallStatus": "ringing"})
        audio = twiml.split("<Play>")[1].split("</Play>")[0].replace(PUBLIC, server.base)
        assert _get(audio)[0] == 200  # our audio, made or cached
        _post(server.base, "/ivr/gather", {"CallSid": sid, "From": CALLER, "Digits": "1"})
        _post(server.base, "/ivr/status", {"CallSid": sid, "From": CALLER, "CallStatus": "completed" if n % 3 else "busy", "CallDuration": "30"})
    status, text = _get(server.base + "/metrics")
    assert status == 200
    found = samples(text)
    assert total(found, "tingwen_calls_started_total", mode="gather", kind="call") == calls
    assert total(found, "tingwen_calls_finished_total", outcome="completed") == 8
    assert total(found, "tingwen_calls_finished_total", outcome="busy") == 4
    assert total(found, "tingwen_http_request_seconds_count", route="/ivr/gather") == calls
    healthz = total(found, "tingwen_http_request_seconds_count", route="/healthz")
    assert asked < healthz <= asked + 5  # every worker's answers, added up (ours, and wait_ready's)
    assert total(found, "tingwen_http_request_seconds_bucket", route="/ivr/gather", le="+Inf") == calls
    assert total(found, "tingwen_http_request_seconds_count", route="/ivr/audio/<name>") == calls
    assert total(found, "tingwen_synthesis_seconds_count") >= 1 and total(found, "tingwen_synthesised_audio_seconds_total") > 0
    assert total(found, "tingwen_synthesis_real_time_factor_count") == total(found, "tingwen_synthesis_seconds_count")
    assert total(found, "tingwen_audio_cache_events_total", event="miss") >= 1
    assert total(found, "tingwen_audio_cache_events_total", event="hit") >= 1
    assert total(found, "tingwen_calls_open") == 0
    assert total(found, "tingwen_voice_info", configured="espeak") == 1
    code = server.stop()
    log = server.log
    assert code == 0 and log.count("Booting worker") == 2, log[-3000:]
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    answered = [line for line in lines if line["message"].startswith("call answered")]
    assert len(answered) == calls and {line["call"] for line in answered} == {f"CA{n:032d}" for n in range(calls)}
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert CALLER not in log and CALLER[1:] not in log and CALLER[3:] not in log  # never a caller's number


def test_stream_first_audio_and_cancel_to_clear_are_measured(tmp_path):
    app = phone_app(tmp_path / "data", phone_mode="stream")
    app.config["TINGWEN_IVR"] = dataclasses.replace(app.config["TINGWEN_IVR"], stream_lead_ms=600_000)
    before = samples(app.test_client().get("/metrics").get_data(as_text=True))
    port, stop = live_app(app)
    try:
        call = TwilioStream(app, port)
        call.answer().connect()
        call.wait_for(lambda ms: any(m["event"] == "mark" for m in ms))
        call.press("1")
        call.wait_for(lambda ms: any(m["event"] == "clear" for m in ms))
        # the notice's first sound has gone out (its audio may still be in the making when the key lands)
        call.wait_for(lambda ms: any(m["event"] in ("media", "mark") for m in ms[next(i for i, m in enumerate(ms) if m["event"] == "clear"):]))
        call.press("*")
        call.wait_for(lambda ms: sum(m["event"] == "clear" for m in ms) >= 2)
        during = samples(app.test_client().get("/metrics").get_data(as_text=True))
        call.hang_up()
    finally:
        stop()
    after = samples(app.test_client().get("/metrics").get_data(as_text=True))
    grew = lambda name, **labels: total(after, name, **labels) - total(before, name, **labels)  # noqa: E731
    assert grew("tingwen_stream_first_audio_seconds_count") >= 2  # the greeting, and the notice after 1
    assert grew("tingwen_stream_cancel_clear_seconds_count") == 1
    assert total(during, "tingwen_calls_in_progress", mode="stream") - total(before, "tingwen_calls_in_progress", mode="stream") == 1
    assert total(after, "tingwen_calls_in_progress", mode="stream") == total(before, "tingwen_calls_in_progress", mode="stream")
    assert grew("tingwen_calls_finished_total", mode="stream", outcome="completed") == 1


def test_faults_and_ingest_are_counted(tmp_path, monkeypatch):
    import sqlite3

    from content.ingest import bundled_corpus
    from content.store import NoticeStore
    from ivr.callstore import CallStore

    app = phone_app(tmp_path / "data")
    client = app.test_client()
    before = samples(client.get("/metrics").get_data(as_text=True))

    def failing(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(CallStore, "begin", failing)  # the call log's disk fails under the running service
    call = PhoneCall(app, caller=CALLER).start()
    assert call.last.status_code == 200 and call.hung_up  # an apology, never a 500
    with NoticeStore(tmp_path / "other.sqlite3") as store:
        from content.ingest import ingest

        ingest(store, [bundled_corpus()])
    after = samples(client.get("/metrics").get_data(as_text=True))
    assert total(after, "tingwen_errors_total", where="phone", kind="OperationalError") - total(
        before, "tingwen_errors_total", where="phone", kind="OperationalError") == 1
    assert total(after, "tingwen_ingested_notices_total", kind="added") - total(before, "tingwen_ingested_notices_total", kind="added") == 7


@pytest.mark.parametrize("text, shown", [
    ("call from +8613812345678 ended", "call from +861******5678 ended"),
    ("13812345678", "1381***5678"),
    ("CA0123456789abcdef0123456789abcdef", "CA0123456789abcdef0123456789abcdef"),  # a call's id is no number
    ("cache 536870912 bytes", "cache 536870912 bytes"),
])
def test_a_number_never_reaches_a_log_line(text, shown):
    assert masked(text) == shown
