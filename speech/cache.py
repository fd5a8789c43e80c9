"""On-disk audio cache keyed by a hash of what the audio depends on.

Files are written to a temporary name and renamed into place, so a reader never sees half a
file; and each file is checked (`verify`) before it is first handed out, so one damaged on disk
is removed and made again rather than served (a file rewritten in place is checked again: its
modification time tells). `lock(key)` makes the threads and processes that want the same missing entry wait for one
of them to make it (a lock file per key stripe, under `locks/`). Reads set the file's access time
(its modification time stays the file's own), and when the folder grows past its bound the least
recently used files are removed. Recipes (what a
planned entry will be made from) are small JSON files under `recipes/`, outside the bound.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_VERIFIED_LIMIT = 50_000  # files remembered as checked
_ROOM_NEEDED_BYTES = 4 * 1024 * 1024  # free space below this counts as full

from monitoring import metrics
log = logging.getLogger(__name__)


def cache_key(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()


class AudioCache:
    def __init__(self, folder: Path, max_bytes: int = DEFAULT_MAX_BYTES, verify: Callable[[Path], str | None] | None = None):
        """`verify(path)` names what is wrong with an entry's file, or None; checked once per
        file version before it is first handed out."""
        self.folder = Path(folder)
        self._folder_text = os.fspath(self.folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # a file in its place, a read-only disk: writes fail, a spare takes over
            log.error("audio cache %s cannot be made (%s)", self.folder, error.strerror or error)
        self.max_bytes = max_bytes
        self.verify = verify
        self._verified: dict[Path, tuple[int, int, int]] = {}  # (inode, size, modified) when checked
        self._lock = threading.Lock()
        self._size: int | None = None

    def path_for(self, key: str, suffix: str) -> Path:
        return Path(self._file(key, suffix))

    def _file(self, key: str, suffix: str) -> str:
        return f"{self._folder_text}/{key[:2]}/{key}{suffix}"

    def has(self, key: str, suffix: str) -> bool:
        """Whether the entry's file is there: a bare look, unchecked (`get` checks), for the
        webhooks that name every chunk they play (no Path objects made)."""
        return os.path.exists(self._file(key, suffix))

    def get(self, key: str, suffix: str) -> Path | None:
        """The entry's file, or None when it is missing or damaged (a damaged one is removed, so
        it is made again: a cached file is never served broken)."""
        path = self.path_for(key, suffix)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            os.utime(path, ns=(time.time_ns(), stat.st_mtime_ns))  # recently used; modified stays its own
        except FileNotFoundError:
            return None
        except OSError:  # a read-only cache can still serve what it holds
            pass
        version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if self.verify is not None and self._verified.get(path) != version:
            problem = self.verify(path)
            if problem:
                log.warning("damaged cache file %s (%s): removed, it will be made again", path, problem)
                path.unlink(missing_ok=True)
                metrics.cache_event("repair")
                return None
            with self._lock:
                if len(self._verified) >= _VERIFIED_LIMIT:
                    self._verified.clear()
                self._verified[path] = version
        return path

    def put(self, key: str, suffix: str, write: Callable[[Path], None]) -> Path:
        """Create the entry with `write(temporary_path)` and move it into place atomically."""
        final = self.path_for(key, suffix)
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=final.parent, prefix=".tmp-", suffix=suffix)
        os.close(handle)
        try:
            write(Path(temporary))
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        self._grew(final.stat().st_size)
        return final

    def writable(self) -> bool:
        """Whether an entry fits in the folder now: room for a few seconds of audio (a full disk
        still makes an empty file, so the probe alone is not enough), and a probe file made and
        removed again (a read-only disk, a file in the folder's place). Cheap: /healthz asks."""
        try:
            room = os.statvfs(self.folder)
            if room.f_bavail * room.f_frsize < _ROOM_NEEDED_BYTES:
                return False
            handle, probe = tempfile.mkstemp(dir=self.folder, prefix=".tmp-probe-")
            os.close(handle)
            os.unlink(probe)
            return True
        except OSError:
            return False

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the lock for `key` (and for the keys sharing its stripe) across threads and
        processes: whoever gets it second finds the entry made."""
        folder = self.folder / "locks"
        folder.mkdir(exist_ok=True)
        with open(folder / f"{key[:2]}.lock", "a") as handle:  # a descriptor of our own: flock per open file
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _recipe_path(self, key: str) -> Path:
        return self.folder / "recipes" / key[:2] / f"{key}.json"

    def put_recipe(self, key: str, text: str) -> None:
        """Store how the entry `key` is to be made (atomically; an existing recipe is kept)."""
        final = self._recipe_path(key)
        if final.exists():
            return
        final.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=final.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, final)

    def recipe(self, key: str) -> str | None:
        try:
            return self._recipe_path(key).read_text("utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            return None

    def size(self) -> int:
        return sum(p.stat().st_size for p in self._entries())

    def _entries(self) -> list[Path]:
        return [p for p in self.folder.glob("??/*") if p.is_file() and not p.name.startswith(".tmp-")]

    def _grew(self, added: int) -> None:
        with self._lock:
            if self._size is None:
                self._size = self.size()
            else:
                self._size += added
            if self._size > self.max_bytes:
                self._size = self._evict()
            metrics.cache_size(self._size)

    def _evict(self) -> int:
        """Remove least recently used entries until the cache is at 90% of its bound."""
        entries = []
        for path in self._entries():
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            entries.append((max(stat.st_atime, stat.st_mtime), stat.st_size, path))
        entries.sort()
        total = sum(size for _, size, _ in entries)
        target = self.max_bytes * 9 // 10
        evicted = 0
        for _, size, path in entries:
            if total <= target:
                break
            path.unlink(missing_ok=True)
            total -= size
            evicted += 1
        metrics.cache_event("eviction", evicted)
        return total
