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
