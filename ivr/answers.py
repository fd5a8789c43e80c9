"""Phone answers remembered: the same menu turn at the same voice gets the same TwiML on every
call (the greeting and the latest notices, a notice's menu, each sentence read), so a webhook
builds and serialises it once per worker instead of once per caller. An answer is kept only
when every chunk of audio it names was already made, and handed out again only while each of
them still is (a chunk removed from the audio cache is planned and made again by the normal
path); a change in how words are read (the hall's pronunciations) names new audio, so the
speaker's `names_version` is part of the key."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

ANSWERS_KEPT = 4096  # answers per worker (a few kilobytes each)

Chunk = tuple[str, str]  # (cache key, file suffix) of one chunk of audio an answer plays


class Answers:
    def __init__(self, limit: int = ANSWERS_KEPT):
        self.limit = limit
        self._kept: dict[Hashable, tuple[str, tuple[Chunk, ...]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._kept

    def get(self, key: Hashable, present: Callable[[str, str], bool]) -> str | None:
        """The answer kept for `key` if every chunk it plays is `present(key, suffix)`, else None."""
        kept = self._kept.get(key)
        if kept is None:
            return None
        twiml, chunks = kept
        if all(present(*chunk) for chunk in chunks):
            return twiml
        with self._lock:
            self._kept.pop(key, None)
        return None

    def put(self, key: Hashable, twiml: str, chunks: list[Chunk]) -> None:
        with self._lock:
            if len(self._kept) >= self.limit:
                self._kept.pop(next(iter(self._kept)))  # the oldest
            self._kept[key] = (twiml, tuple(chunks))
