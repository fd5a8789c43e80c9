"""Uploaded notices waiting for 发布: the files as uploaded, kept in a folder of their own under
the data folder (staff-drafts/<id>/), parsed again whenever they are previewed or published, so
what is published is exactly what was previewed and nothing is stored before 发布."""

from __future__ import annotations

import json
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


@dataclass(frozen=True)
class Draft:
    id: str
    folder: Path
    by: str
    issuer: str | None
    files: list[str]

    def parse(self) -> list[Notice]:
        """The notices the files hold; IngestError names the file and line of a bad one."""
        paths = [self.folder / name for name in self.files]
        return parse_all(paths, SourceFormat.AUTO, self.issuer or None)


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
        draft_id = secrets.token_urlsafe(16)
        folder = self.folder / draft_id
        folder.mkdir(parents=True)
        names = []
        for index, (name, data) in enumerate(uploads, 1):
            safe = f"{index:02d}-{_safe_name(name)}"
            (folder / safe).write_bytes(data)
            names.append(safe)
        (folder / "draft.json").write_text(json.dumps({"by": by, "issuer": issuer, "files": names}, ensure_ascii=False), "utf-8")
        return self.get(draft_id)

    def get(self, draft_id: str) -> Draft | None:
        if not _ID.match(draft_id):
            return None
        folder = self.folder / draft_id
        try:
            meta = json.loads((folder / "draft.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return Draft(draft_id, folder, meta["by"], meta.get("issuer"), meta["files"])

    def discard(self, draft: Draft) -> None:
        shutil.rmtree(draft.folder, ignore_errors=True)


def _safe_name(name: str) -> str:
    """The file's own name without any folder part or character a file system might refuse."""
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", base)[:100].lstrip(".")
    return cleaned or "file.txt"
