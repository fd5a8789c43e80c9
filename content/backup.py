"""Backups of the data folder while the service runs: each database through SQLite's online
backup (a consistent copy even mid-write, WAL or not), the small files beside them as they are,
and a manifest with every file's SHA-256. A backup is written to a temporary folder and renamed
into place, so a half-written one never looks whole; a restore checks the manifest and each
database's integrity first, and keeps what it replaces.

The audio cache and speech models are not backed up: they are made again (prerender) or
installed again (models install)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from datetime import UTC, datetime
from pathlib import Path

MANIFEST = "backup.json"


class BackupError(Exception):
    """A backup that cannot be made or restored; the message names the file and the reason."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_database(source: Path, target: Path) -> None:
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)
    with sqlite3.connect(target) as written:
        written.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it


def make_backup(data_dir: Path, destination: Path, databases: list[str], files: list[str]) -> dict:
    """Copy `databases` and those of `files` that exist from `data_dir` into `destination` (a new
    folder); returns the manifest."""
    destination = destination.expanduser().resolve()
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise BackupError(f"{destination}: already exists and is not an empty folder; choose a new one")
    destination.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{destination.name}.partial-", dir=destination.parent))
    try:
        entries = {}
        for name in databases:
            source = data_dir / name
            if not source.exists():
                continue
            try:
                _copy_database(source, work / name)
            except sqlite3.DatabaseError as error:
                raise BackupError(f"{source}: cannot be backed up ({error})") from None
            entries[name] = {"kind": "database", "sha256": _sha256(work / name)}
        for name in files:
            if (data_dir / name).is_file():
                shutil.copy2(data_dir / name, work / name)
                entries[name] = {"kind": "file", "sha256": _sha256(work / name)}
        manifest = {"made_at": datetime.now(UTC).isoformat(timespec="seconds"), "source": str(data_dir), "files": entries}
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), "utf-8")
        if destination.exists():
            destination.rmdir()
        os.replace(work, destination)
        return manifest
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def check_backup(source: Path) -> dict:
    """The backup's manifest, once every file is there with its SHA-256 and every database
    passes SQLite's integrity check."""
    try:
        manifest = json.loads((source / MANIFEST).read_text("utf-8"))
        entries = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{source}: not a tingwen backup ({MANIFEST} unreadable: {error})") from None
    for name, entry in entries.items():
        path = source / name
        if Path(name).name != name or not path.is_file():
            raise BackupError(f"{path}: missing from the backup")
        if _sha256(path) != entry.get("sha256"):
            raise BackupError(f"{path}: damaged (its SHA-256 is not the one recorded)")
        if entry.get("kind") == "database":
            try:
                with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                    verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
            except sqlite3.DatabaseError as error:
                verdict = str(error)
            if verdict != "ok":
                raise BackupError(f"{path}: not a sound database ({verdict})")
    return manifest


def restore_backup(source: Path, data_dir: Path) -> Path:
    """Put a checked backup in place of the data folder's files (the service must be stopped);
    what it replaces is moved to a folder `before-restore-…` inside the data folder, which is
    returned."""
    manifest = check_backup(source)
    data_dir.mkdir(parents=True, exist_ok=True)
    kept = data_dir / f"before-restore-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    kept.mkdir()
    for name in manifest["files"]:
        staged = data_dir / f".{name}.restoring"
        shutil.copy2(source / name, staged)
        for suffix in ("", "-wal", "-shm"):
            current = data_dir / f"{name}{suffix}"
            if current.exists():
                os.replace(current, kept / current.name)
        os.replace(staged, data_dir / name)
    return kept
