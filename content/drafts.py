"""Notices waiting for 发布: uploaded by staff, or found on the website by the watcher. The files
as they came are kept in a folder of their own (staff-drafts/<id>/ in the data folder), parsed
again whenever they are previewed or published, so what is published is exactly what was
previewed and nothing is stored before 发布. A draft from the website carries its address, which
becomes the notice's source (the page a text message links to), and is named after it, so
finding the same article again replaces its draft instead of adding one."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from content.errors import IngestError
from content.ingest import SourceFormat, parse_all
from content.model import Notice

_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_FILES = 50
WEB_PAGE = "网页.html"  # the one file of a draft from the website


def web_draft_id(url: str) -> str:
    """The draft name of an article of the website: the same address, the same draft."""
    return "web-" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Draft:
    id: str
    folder: Path
    by: str
    issuer: str | None
    files: list[str]
    origin: str | None = None  # the web address it was found at

    def parse(self) -> list[Notice]:
        """The notices the files hold; IngestError names the file and line of a bad one."""
        paths = [self.folder / name for name in self.files]
        notices = parse_all(paths, SourceFormat.AUTO, self.issuer or None)
        if self.origin:
            for notice in notices:
                if not (notice.source or "").startswith(("http://", "https://")):
                    notice.source = self.origin
        return notices


class Drafts:
    def __init__(self, folder: Path):
        self.folder = folder

    def create(self, by: str, issuer: str | None, uploads: list[tuple[str, bytes]], pasted: str | None) -> Draft:
        """Keep the uploaded files (and pasted text as 粘贴的文本.txt) as a new draft."""
        if pasted and pasted.strip():
            uploads = [*uploads, ("粘贴的文本.txt", pasted.encode("utf-8"))]
        uploads = [(name, data) for name, data in uploads if data]
        if not uploads:
            raise IngestError("上传", None, "没有文件，也没有粘贴的文本")
        if len(uploads) > MAX_FILES:
            raise IngestError("上传", None, f"一次最多 {MAX_FILES} 个文件")
        files = [(f"{index:02d}-{_safe_name(name)}", data) for index, (name, data) in enumerate(uploads, 1)]
        return self._write(secrets.token_urlsafe(16), {"by": by, "issuer": issuer}, files)

    def create_from_web(self, draft_id: str, url: str, page: str, issuer: str | None = None) -> Draft:
        """The article found at `url` as a draft (replacing the one made from it before)."""
        return self._write(draft_id, {"by": "网站监测", "issuer": issuer, "origin": url}, [(WEB_PAGE, page.encode("utf-8"))])

    def _write(self, draft_id: str, meta: dict, files: list[tuple[str, bytes]]) -> Draft:
        """Written beside its place, then moved in whole: a draft is never half there."""
        self.folder.mkdir(parents=True, exist_ok=True)
        building = self.folder / f".{draft_id}.{os.getpid()}.{secrets.token_hex(4)}"
        building.mkdir()
        for name, data in files:
            (building / name).write_bytes(data)
        (building / "draft.json").write_text(json.dumps({**meta, "files": [n for n, _ in files]}, ensure_ascii=False), "utf-8")
        final = self.folder / draft_id
        if final.exists():
            shutil.rmtree(final, ignore_errors=True)
        building.rename(final)
        return self.get(draft_id)

    def get(self, draft_id: str) -> Draft | None:
        if not _ID.match(draft_id):
            return None
        folder = self.folder / draft_id
        try:
            meta = json.loads((folder / "draft.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return Draft(draft_id, folder, meta["by"], meta.get("issuer"), meta["files"], meta.get("origin"))

    def pending(self) -> list[Draft]:
        """Every draft still waiting, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [self.get(p.name) for p in sorted(self.folder.iterdir(), key=lambda p: p.stat().st_mtime) if not p.name.startswith(".")]
        return [d for d in found if d is not None]

    def discard(self, draft: Draft) -> None:
        shutil.rmtree(draft.folder, ignore_errors=True)


def _safe_name(name: str) -> str:
    """The file's own name without any folder part or character a file system might refuse."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", base)[:100].lstrip(".")
    return cleaned or "file.txt"
