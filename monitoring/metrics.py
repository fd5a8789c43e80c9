"""The service's Prometheus metrics, recorded where things happen and served at /metrics.

Under `tingwen serve` gunicorn's workers each count for themselves and the official client's
multiprocess mode adds them up: `use_multiprocess(folder)` is called in the master before the
workers start, and every metric is made on its first use (so after that, in the worker). In any
other process (a command, a test) the metrics live in this process's memory.
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client import multiprocess

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_LATENCY = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_FIRST_AUDIO = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0)
_SYNTHESIS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _Metrics:
    """Every metric, made together on first use."""

    def __init__(self, registry: CollectorRegistry | None):
        r = {"registry": registry} if registry is not None else {"registry": None}
        self.requests = Histogram("tingwen_http_request_seconds", "Time to answer an HTTP request (webhooks, kiosk, staff), by route",
                                  ["route", "method", "status"], buckets=_LATENCY, **r)
        self.calls_started = Counter("tingwen_calls_started", "Phone calls answered, by mode (gather, stream) and kind (call, bulletin)",
                                     ["mode", "kind"], **r)
        self.calls_finished = Counter("tingwen_calls_finished", "Phone calls over, by mode and outcome (Twilio's CallStatus)",
                                      ["mode", "outcome"], **r)
        self.calls_in_progress = Gauge("tingwen_calls_in_progress", "Streaming calls connected to this service now", ["mode"],
                                       multiprocess_mode="livesum", **r)
        self.first_audio = Histogram("tingwen_stream_first_audio_seconds",
                                     "Streaming calls: from what the caller did (answer, key, words) to our first audio frame",
                                     buckets=_FIRST_AUDIO, **r)
        self.cancel_clear = Histogram("tingwen_stream_cancel_clear_seconds", "Streaming calls: from a cancel (*) to the clear sent",
                                      buckets=_LATENCY, **r)
        self.synthesis = Histogram("tingwen_synthesis_seconds", "Time to synthesise one chunk, by voice", ["voice"], buckets=_SYNTHESIS, **r)
        self.real_time_factor = Histogram("tingwen_synthesis_real_time_factor", "Seconds to make a chunk per second of its audio, "
                                          "by voice", ["voice"], buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0), **r)
        self.synthesised_audio = Counter("tingwen_synthesised_audio_seconds", "Seconds of audio synthesised, by voice "
                                         "(rate(synthesis_seconds_sum) / rate(this) is the real-time factor)", ["voice"], **r)
        self.cache = Counter("tingwen_audio_cache_events", "Audio cache: hits, misses, evictions, repairs (damaged files made again)",
                             ["event"], **r)
        self.cache_bytes = Gauge("tingwen_audio_cache_bytes", "Audio cache size", multiprocess_mode="max", **r)
        self.prerender_backlog = Gauge("tingwen_prerender_backlog_texts", "Texts pre-rendering has still to check",
                                       multiprocess_mode="max", **r)
        self.recognitions = Counter("tingwen_recognitions", "Spoken commands, by result (understood, confirmed, unclear, off_menu)",
                                    ["result"], **r)
        self.bulletin_calls = Counter("tingwen_bulletin_calls", "Daily bulletin calls, by outcome", ["outcome"], **r)
        self.watcher = Counter("tingwen_watcher_articles", "Website watcher: articles by what became of them (new, changed, "
                               "unchanged, failed), and list pages read (pages)", ["kind"], **r)
        self.ingested = Counter("tingwen_ingested_notices", "Notices stored, by how (added, updated, unchanged)", ["kind"], **r)
        self.errors = Counter("tingwen_errors", "Faults, by kind (the exception's type) and where", ["kind", "where"], **r)
        self.voice = Gauge("tingwen_voice_info", "1 for the voice that speaks, with the one configured (TINGWEN_VOICE)",
                           ["configured", "speaking"], multiprocess_mode="max", **r)
        self.fallbacks = Counter("tingwen_voice_fallbacks", "Chunks the fallback voice (espeak-ng) made because the voice failed",
                                 ["voice"], **r)


_made: _Metrics | None = None
_enabled = True  # bench/metrics_cost.py turns recording off to measure what it costs
_lock = threading.Lock()
_registry = CollectorRegistry()  # this process's, when not under gunicorn's several workers


def _metrics() -> _Metrics:
    global _made
    if _made is None:
        with _lock:
            if _made is None:
                _made = _Metrics(None if os.environ.get(MULTIPROCESS_ENV) else _registry)
    return _made


def use_multiprocess(folder: Path) -> None:
    """Before the workers start: they will count in files under `folder` (emptied now), and
    /metrics adds them up. Metrics made before this (in the master) stay its own."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROCESS_ENV] = str(folder)
    values.ValueClass = values.get_value_class()


def set_enabled(on: bool) -> None:
    """Record (the default) or not: only for measuring the cost of recording."""
    global _enabled
    _enabled = on


def worker_exited(pid: int) -> None:
    """A worker is gone: its live gauges (calls in progress) stop counting."""
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.mark_process_dead(pid)


def exposition(*collectors) -> bytes:
    """The text /metrics answers: every worker's metrics (or this process's), and `collectors`
    that read their figures when scraped."""
    _metrics()
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Forward())
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry)


class _Forward:
    """This process's registry inside another (so scrape-time collectors can join it)."""

    def collect(self):
        return _registry.collect()


# Recording: one function per thing that happens, so a caller never handles a metric itself.


def _recording(record):
    """Nothing is recorded while recording is off."""

    @functools.wraps(record)
    def maybe(*args, **kwargs) -> None:
        if _enabled:
            record(*args, **kwargs)

    return maybe


@_recording
def request(route: str, method: str, status: int, seconds: float) -> None:
    _metrics().requests.labels(route, method, str(status)).observe(seconds)


@_recording
def call_started(mode: str, kind: str = "call") -> None:
    _metrics().calls_started.labels(mode, kind).inc()


@_recording
def call_finished(mode: str, outcome: str) -> None:
    _metrics().calls_finished.labels(mode, outcome or "unknown").inc()


@_recording
def stream_connected(change: int) -> None:
    _metrics().calls_in_progress.labels("stream").inc(change)


@_recording
def first_audio(seconds: float) -> None:
    _metrics().first_audio.observe(seconds)


@_recording
def cancel_cleared(seconds: float) -> None:
    _metrics().cancel_clear.observe(seconds)


@_recording
def synthesised(voice: str, seconds: float, audio_seconds: float) -> None:
    made = _metrics()
    made.synthesis.labels(voice).observe(seconds)
    made.real_time_factor.labels(voice).observe(seconds / audio_seconds if audio_seconds > 0 else 0.0)
    made.synthesised_audio.labels(voice).inc(audio_seconds)


@_recording
def cache_event(event: str, count: int = 1) -> None:
    _metrics().cache.labels(event).inc(count)


@_recording
def cache_size(size: int) -> None:
    _metrics().cache_bytes.set(size)


@_recording
def prerender_backlog(texts: int) -> None:
    _metrics().prerender_backlog.set(texts)


@_recording
def recognised(result: str) -> None:
    _metrics().recognitions.labels(result).inc()


@_recording
def bulletin_call(outcome: str) -> None:
    _metrics().bulletin_calls.labels(outcome or "unknown").inc()


@_recording
def watched(kind: str, count: int = 1) -> None:
    if count:
        _metrics().watcher.labels(kind).inc(count)


@_recording
def ingested(added: int, updated: int, unchanged: int) -> None:
    made = _metrics()
    for kind, count in (("added", added), ("updated", updated), ("unchanged", unchanged)):
        if count:
            made.ingested.labels(kind).inc(count)


@_recording
def error(kind: str, where: str) -> None:
    _metrics().errors.labels(kind, where).inc()


@_recording
def voice_chosen(configured: str, speaking: str) -> None:
    _metrics().voice.labels(configured, speaking).set(1)


@_recording
def voice_fell_back(failed: str) -> None:
    _metrics().fallbacks.labels(failed).inc()
