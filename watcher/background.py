"""The server's own watcher: every TINGWEN_WATCH_MINUTES a daemon thread runs one pass, when it
can take the lease (one pass at a time across gunicorn's workers and servers sharing one
PostgreSQL). A pass that fails is logged; the next one goes on from what was kept."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from watcher.run import PassReport, WatchPass
from watcher.state import WatchState

log = logging.getLogger(__name__)


def run_leased(state: WatchState, make_pass: Callable[[WatchState], WatchPass]) -> PassReport | None:
    """One pass under the lease; None when another holds it."""
    holder = state.take_lease()
    if holder is None:
        return None
    try:
        return make_pass(state).run()
    finally:
        state.give_lease(holder)


class WatchJob:
    def __init__(self, open_state: Callable[[], WatchState], make_pass: Callable[[WatchState], WatchPass], minutes: float,
                 after: Callable[[PassReport], None] | None = None):
        self.open_state, self.make_pass, self.seconds = open_state, make_pass, minutes * 60
        self.after = after or (lambda report: None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tingwen-watch", daemon=True)

    def start(self) -> WatchJob:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with self.open_state() as state:
                    report = run_leased(state, self.make_pass)
                if report is not None:
                    log.info("website watcher: %s", report.lines()[0])
                    self.after(report)
            except Exception as error:  # the service goes on; the next pass tries again
                log.error("website watcher: the pass failed: %s: %s", type(error).__name__, error)
            self._stop.wait(self.seconds)
