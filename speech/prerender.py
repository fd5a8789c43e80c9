"""Render what listeners will hear before they ask for it, in the background while the service
answers: at start-up, and again whenever what there is to say changes (notices ingested by the
command line or another server show up as a new revision of the store).

It knows nothing of notices: the composition root hands it `texts()`, in the order they matter
(menu prompts first, then the latest notices in menu order), and `revision()`, a cheap value that
changes when the texts do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

from monitoring import metrics
from speech.engine import background_work, yield_the_cpu
from speech.exiting import exiting
from speech.speaker import Speaker
from speech.utterances import AudioFormat


log = logging.getLogger(__name__)
CHECK_SECONDS = 30.0  # how often the store is asked whether there is something new to render


def render_all(speaker: Speaker, texts: list[str], formats: list[AudioFormat], progress: Callable[[int], None] | None = None,
               stop: threading.Event | None = None) -> int:
    """Render every chunk of every text in every format (each chunk is synthesised once for all
    formats); returns the number of chunks. `progress(i)` after each text; `stop` ends early."""
    chunks = 0
    for index, text in enumerate(texts, 1):
        if (stop is not None and stop.is_set()) or exiting():
            break
        for fmt in formats:
            try:
                chunks += sum(1 for _ in speaker.render_text(text, fmt))
            except Exception as error:  # one bad text must not stop the rest
                log.error("prerender: could not render %r: %s", text[:40], error)
        if progress:
            progress(index)
    return chunks


class BackgroundPrerender:
    """One daemon thread that renders the texts at start and after every change of revision."""

    def __init__(
        self,
        speaker: Speaker,
        texts: Callable[[], list[str]],
        revision: Callable[[], Hashable],
        check_seconds: float = CHECK_SECONDS,
        after: Callable[[threading.Event], object] | None = None,
    ):
        """`after(stop)` runs at the end of each pass, once the texts are ready (the podcast
        feed's episodes are made from them)."""
        self.speaker = speaker
        self.texts = texts
        self.revision = revision
        self.check_seconds = check_seconds
        self.after = after
        self.rendered_revision: Hashable | None = None
        self.done = threading.Event()  # set each time a pass has finished
        self._stop = threading.Event()
        self._poked = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tingwen-prerender", daemon=True)

    def start(self) -> BackgroundPrerender:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._poked.set()

    def poke(self) -> None:
        """Check again now rather than at the next poll (staff just published, or changed a
        pronunciation: a pass renders only what is not cached under its new name)."""
        self.rendered_revision = None
        self._poked.set()

    def _run(self) -> None:
        yield_the_cpu()  # this thread only works ahead: callers' requests take the cores first
        with background_work():  # and a caller waiting for audio goes first at the voice
            self._watch()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                current = self.revision()
                if current != self.rendered_revision:
                    self._pass(current)
            except Exception:
                log.exception("prerender: pass failed; trying again in %.0f s", self.check_seconds)
            self._poked.wait(self.check_seconds)
            self._poked.clear()

    def _pass(self, current: Hashable) -> None:
        texts = self.texts()
        started = time.monotonic()
        log.info("prerender: %d texts to check in the audio cache (prompts first, then the latest notices)", len(texts))
        last_report = [started]

        metrics.prerender_backlog(len(texts))

        def progress(index: int) -> None:
            metrics.prerender_backlog(len(texts) - index)
            now = time.monotonic()
            if now - last_report[0] >= 15 or index == len(texts):
                last_report[0] = now
                log.info("prerender: %d of %d texts ready (%.0f%%), %.0f s", index, len(texts), 100 * index / max(1, len(texts)), now - started)

        chunks = render_all(self.speaker, texts, list(AudioFormat), progress, self._stop)
        if self.after is not None and not self._stop.is_set():
            self.after(self._stop)
        if not self._stop.is_set():
            self.rendered_revision = current
            log.info("prerender: done, %d chunks in both formats in %.0f s", chunks, time.monotonic() - started)
            self.done.set()
