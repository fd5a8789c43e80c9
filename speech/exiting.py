"""Synthesis and process exit: an engine's native code cut off mid-utterance at exit aborts the
process ("terminate called…"), so exiting waits for the syntheses running and starts no new one.
A server's worker settles as it stops (gunicorn's worker_exit); atexit does it for any other
process, as a last resort."""

from __future__ import annotations

import atexit
import contextlib
import threading


class _Synthesis:
    """Synthesis running in this process, so that exiting waits for it: an engine's native code
    cut off mid-utterance at exit aborts the process ("terminate called…")."""

    exiting = threading.Event()
    _running = 0
    _changed = threading.Condition()

    @classmethod
    @contextlib.contextmanager
    def running(cls):
        with cls._changed:
            if cls.exiting.is_set():  # nothing new starts once exiting has begun
                raise RuntimeError("the process is exiting; no more synthesis")
            cls._running += 1
        try:
            yield
        finally:
            with cls._changed:
                cls._running -= 1
                cls._changed.notify_all()

    @classmethod
    def settle(cls, timeout: float = 15.0) -> None:
        """At exit: no new background work, and what is running may finish."""
        cls.exiting.set()
        with cls._changed:
            cls._changed.wait_for(lambda: cls._running == 0, timeout)


atexit.register(_Synthesis.settle)


def exiting() -> bool:
    """The process is exiting: background work stops taking new texts."""
    return _Synthesis.exiting.is_set()


def settle_synthesis(timeout: float = 15.0) -> None:
    """Take no new synthesis and let what is running write its files: for a server's worker as
    it stops, before the interpreter tears down what a synthesis in progress still uses (its
    temporary folder). atexit does the same for any other process, as a last resort."""
    _Synthesis.settle(timeout)
