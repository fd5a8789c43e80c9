"""Episodes: each latest notice read aloud whole, its title first and then every sentence as a
caller hears it (the same audio, so what prerender made is reused, not synthesised again), as one
MP3 in the audio folder, made in the background after publishing (never in a request).

The shelf is a folder: `<key>.mp3` per episode, where the key is a hash of every chunk's audio
key (so a changed text, voice or pronunciation makes a new episode), and `index.json`, which says
for each notice which episode is current, how long it lasts and how big it is. The index is
replaced whole and atomically; a damaged one is read as empty and the episodes are made again.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from content.model import Notice
from content.menu_texts import MenuTexts
from speech.audio import read_wav
from speech.cache import cache_key
from speech.mp3 import BITRATE_KBPS, encode_mp3
from speech.exiting import exiting
from speech.speaker import Speaker
from speech.utterances import AudioFormat

log = logging.getLogger(__name__)
INDEX_FILE = "index.json"
_EPISODE_VERSION = 1  # bump when a change alters episodes made from the same audio
_KEEP_OLD_SECONDS = 24 * 3600  # an episode no longer current is deleted a day later (apps may be downloading it)


def episode_texts(notice: Notice) -> list[str]:
    """Title, issuer and date, then every sentence in reading order (what a caller hears)."""
    return MenuTexts().whole_notice(notice)


@dataclass(frozen=True)
class Episode:
    notice_id: int
    key: str
    seconds: float
    bytes: int
    made_at: str

    @property
    def file_name(self) -> str:
        return f"{self.key}.mp3"


class EpisodeShelf:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()

    def index(self) -> dict[int, Episode]:
        """The current episode of each notice that has one (only those whose file is there)."""
        try:
            raw = json.loads((self.folder / INDEX_FILE).read_text("utf-8"))
            found = {int(k): Episode(**v) for k, v in raw.items()}
        except FileNotFoundError:
            return {}
        except OSError as error:  # the folder is a file, or cannot be read: nothing is listed
            log.warning("feed: %s cannot be read (%s)", self.folder / INDEX_FILE, error.strerror or error)
            return {}
        except (ValueError, TypeError, UnicodeDecodeError, AttributeError) as error:
            log.warning("feed: %s is damaged (%s); its episodes will be made again", self.folder / INDEX_FILE, error)
            return {}
        return {n: e for n, e in found.items() if (self.folder / e.file_name).is_file()}

    def path(self, name: str) -> Path | None:
        """The file an episode URL names, or None: only `<64 hex>.mp3` names are served."""
        key, _, suffix = name.partition(".")
        if suffix != "mp3" or len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            return None
        path = self.folder / name
        return path if path.is_file() else None

    def episode_key(self, speaker: Speaker, notice: Notice) -> str:
        """A hash of every chunk's audio key: what the episode would sound like, without making it."""
        keys = [speaker.key(recipe, AudioFormat.WAV) for text in episode_texts(notice) for recipe in speaker.recipes(text)]
        return cache_key("episode", _EPISODE_VERSION, BITRATE_KBPS, *keys)

    def make(self, speaker: Speaker, notices: list[Notice], stop: threading.Event | None = None) -> int:
        """Make the episodes missing or out of date for `notices`; returns how many were made.
        Each one is written beside its final name and renamed into place, then indexed."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:  # a file in its place, a full or read-only disk: said once, tried next pass
            log.error("feed: episodes cannot be kept in %s: %s", self.folder, error.strerror or error)
            return 0
        made = 0
        current = self.index()
        for notice in notices:
            if (stop is not None and stop.is_set()) or exiting():
                break
            try:
                key = self.episode_key(speaker, notice)
                if notice.id in current and current[notice.id].key == key:
                    continue
                episode = self._make_one(speaker, notice, key)
                self._index_one(episode)
            except Exception as error:  # a notice that cannot be read, a full disk: the rest go on
                log.error("feed: no episode for notice %s: %s", notice.id, error)
                continue
            made += 1
            log.info("feed: episode for notice %s made (%.0f s, %d KB)", notice.id, episode.seconds, episode.bytes // 1024)
        try:
            self._tidy({n.id for n in notices})
        except OSError as error:
            log.error("feed: the episodes in %s cannot be tidied: %s", self.folder, error)
        return made

    def _make_one(self, speaker: Speaker, notice: Notice, key: str) -> Episode:
        parts = (read_wav(utterance.path) for text in episode_texts(notice) for utterance in speaker.render_text(text, AudioFormat.WAV))
        final = self.folder / f"{key}.mp3"
        temporary = self.folder / f".{key}.{os.getpid()}.{threading.get_ident()}.part"
        try:
            with temporary.open("wb") as out:
                size, seconds = encode_mp3(parts, out)
            os.replace(temporary, final)
        finally:
            temporary.unlink(missing_ok=True)
        return Episode(notice.id, key, round(seconds, 3), size, datetime.now(UTC).isoformat(timespec="seconds"))

    def _index_one(self, episode: Episode) -> None:
        with self._lock:
            index = self.index()
            index[episode.notice_id] = episode
            self._write_index(index)

    def _write_index(self, index: dict[int, Episode]) -> None:
        text = json.dumps({str(n): asdict(e) for n, e in sorted(index.items())}, ensure_ascii=False, indent=1)
        temporary = self.folder / f".{INDEX_FILE}.{os.getpid()}.{threading.get_ident()}"
        try:
            temporary.write_text(text, "utf-8")
            os.replace(temporary, self.folder / INDEX_FILE)  # the old index stays whole until then
        finally:
            temporary.unlink(missing_ok=True)

    def _tidy(self, listed: set[int]) -> None:
        """Forget episodes of notices no longer listed (withdrawn, or older than the menu), and
        delete files no episode names once they are a day old."""
        with self._lock:
            index = self.index()
            kept = {n: e for n, e in index.items() if n in listed}
            if kept != index:
                self._write_index(kept)
            names = {e.file_name for e in kept.values()}
        cutoff = time.time() - _KEEP_OLD_SECONDS
        for path in self.folder.glob("*.mp3"):
            try:
                if path.name not in names and path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass
