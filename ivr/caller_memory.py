"""What the phone line remembers of a caller between calls: their pace and loudness, and where
they stopped in a notice. Kept under the salted hash of their number (never the number), beside
the call log (SQLite or the PostgreSQL several servers share), for TINGWEN_CALLER_MEMORY_DAYS;
a caller who says 忘记我 is forgotten at once, and a withheld number is never remembered.
Staff see how many callers are remembered, never who."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from content.menu_state import Forget, MenuState, Resume
from ivr.callstore import CallStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Remembered:
    pace: int
    loudness: int
    resume: Resume | None


class CallerMemory:
    """The callers' memory in `calls`'s database, for its `memory_days` (0 remembers nobody;
    the call store forgets older entries as it purges old calls)."""

    def __init__(self, calls: CallStore) -> None:
        self.calls, self.days = calls, calls.memory_days

    def _key(self, number: str | None) -> str | None:
        return self.calls.caller_hash(number) if number and self.days > 0 else None

    def recall(self, number: str | None, now: datetime | None = None) -> Remembered | None:
        """What is kept of this caller (nothing older than the setting's days)."""
        key = self._key(number)
        if key is None:
            return None
        rows = self.calls.conn.query(
            "SELECT pace, loudness, notice_id, part, sentence FROM callers WHERE caller_hash = ? AND updated_at >= ?",
            [key, self.calls.memory_cutoff(now)],
        )
        if not rows:
            return None
        row = rows[0]
        resume = Resume(row["notice_id"], row["part"], row["sentence"]) if row["notice_id"] is not None else None
        return Remembered(row["pace"], row["loudness"], resume)

    def keep(self, number: str | None, state: MenuState, resume: Resume | None, now: datetime | None = None) -> bool:
        """Remember the caller's pace, loudness and place at the end of a call (nothing when they
        asked to be forgotten or their number is withheld); True if something was kept."""
        key = self._key(number)
        if key is None or state.forgotten:
            return False
        place = (resume.notice_id, resume.part, resume.sentence) if resume is not None else (None, None, None)
        with self.calls.conn.writing(f"caller {key[:12]}"):
            self.calls.conn.execute(
                "INSERT INTO callers (caller_hash, pace, loudness, notice_id, part, sentence, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (caller_hash) DO UPDATE SET pace = excluded.pace, loudness = excluded.loudness, "
                "notice_id = excluded.notice_id, part = excluded.part, sentence = excluded.sentence, updated_at = excluded.updated_at",
                [key, state.pace, state.loudness, *place, self.calls.stamp(now)],
            )
        return True

    def forget(self, number: str | None) -> bool:
        """忘记我: everything kept of this caller goes, at once."""
        key = self.calls.caller_hash(number) if number else None
        if key is None:
            return False
        with self.calls.conn.writing(f"caller {key[:12]}"):
            removed = self.calls.conn.execute("DELETE FROM callers WHERE caller_hash = ?", [key]).rowcount
        return bool(removed)


def carry_out(actions: list, number: str | None, memory: CallerMemory) -> list:
    """Do the menu's Forget actions for the caller's `number` (the menu says the confirmation
    itself; a caller whose number is withheld has nothing kept to forget)."""
    if any(isinstance(a, Forget) for a in actions):
        try:
            memory.forget(number)
        except Exception as error:  # the confirmation stands: the call keeps nothing either way (state.forgotten)
            log.error("could not forget a caller: %s", error)
    return [a for a in actions if not isinstance(a, Forget)]
