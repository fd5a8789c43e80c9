"""Logs a log system can read: with TINGWEN_LOG_FORMAT=json every line is one JSON object (time,
level, logger, message, the call's id where there is one); text as ever otherwise. Either way a
phone number never reaches a log line: anything shaped like one is masked."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_call: contextvars.ContextVar[str | None] = contextvars.ContextVar("tingwen_call", default=None)
# A phone number as it may appear: +8613812345678, 8613812345678, 13812345678, 01088880000.
_NUMBER = re.compile(r"\+\d{7,15}(?!\d)|(?<![\d\w])(?:86)?1[3-9]\d{9}(?!\d)|(?<![\d\w])0\d{9,11}(?!\d)")


@contextlib.contextmanager
def call(sid: str | None) -> Iterator[None]:
    """Log lines written meanwhile (in this thread or task) carry the call's id."""
    token = _call.set(sid)
    try:
        yield
    finally:
        _call.reset(token)


def set_call(sid: str | None) -> None:
    """For a thread that serves one call to its end (a stream)."""
    _call.set(sid)


def mask_number(number: str) -> str:
    """Enough of a number to recognise it, not to dial it (+861******5678): logs, reports and
    the command line show numbers so."""
    return number[:4] + "*" * max(0, len(number) - 8) + number[-4:]


def masked(text: str) -> str:
    """Every phone number in `text` masked."""
    return _NUMBER.sub(lambda m: mask_number(m.group(0)), text)


class _Masking(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return masked(super().format(record))


class JsonLines(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": masked(record.getMessage()),
        }
        sid = _call.get()
        if sid:
            line["call"] = sid
        if record.exc_info:
            line["error"] = masked(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)


def formatter(kind: str) -> logging.Formatter:
    return JsonLines() if kind == "json" else _Masking(TEXT_FORMAT)


def configure(kind: str = "text", loggers: tuple[str, ...] = ("gunicorn.error", "gunicorn.access")) -> None:
    """INFO and above to standard error in `kind` (text or json), unless the host has set up
    logging itself; gunicorn's own lines (its errors, its access log) in the same form."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter(kind))
        root.addHandler(handler)
        root.setLevel(logging.INFO)
    elif kind == "json":
        for handler in [*root.handlers, *(h for name in loggers for h in logging.getLogger(name).handlers)]:
            handler.setFormatter(formatter(kind))
