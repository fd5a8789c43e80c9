"""Errors that name what was wrong and where, so staff can fix the source and try again."""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """A source that cannot be read as notices; nothing from the run that met it is stored."""

    def __init__(self, source: str | Path, line: int | None, problem: str):
        self.source = str(source)
        self.line = line
        self.problem = problem
        where = f"{self.source}, line {line}" if line else self.source
        super().__init__(f"{where}: {problem}")


class NoticeNotFound(LookupError):
    def __init__(self, notice_id: int):
        self.notice_id = notice_id
        super().__init__(f"no notice with id {notice_id}")


class StoreBusy(Exception):
    """Another process kept the store locked for writing longer than we waited."""

    def __init__(self, path: str | Path, waited: float):
        self.path = str(path)
        super().__init__(f"{path}: another process (an ingest?) is writing and did not finish within {waited:.0f} s; try again when it is done")


class StoreUnreadable(Exception):
    """A database file that SQLite cannot read: damaged, or not a database at all."""

    def __init__(self, path: str | Path, name: str, problem: str):
        self.path = str(path)
        super().__init__(
            f"{path}: {name} cannot be read ({problem}); restore it from a backup (tingwen restore-backup) "
            "or move the file away to start afresh"
        )
