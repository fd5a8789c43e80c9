"""Phone numbers for the daily bulletin: which can be called back, how they are sealed in the
database (a keyed hash to find one, a Fernet token to dial it, under the key in the data folder),
and how they are shown in logs and reports (masked)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from functools import cache
from pathlib import Path

from cryptography.fernet import Fernet

from content.errors import StoreUnreadable
from monitoring.logs import mask_number as masked_number  # noqa: F401  (one way to mask a number, for logs and reports)

# Twilio's From for a withheld number, and what its docs list for restricted/blocked/unknown.
_WITHHELD = {"anonymous", "restricted", "unknown", "blocked", "private", "+266696687", "+7378742833", "+2562533", "+8656696"}
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def dialable(number: str | None) -> str | None:
    """The number in E.164 form if it can be called back, else None (withheld, a client name,
    anything else): spaces and dashes are dropped, nothing else is guessed."""
    if not number:
        return None
    cleaned = re.sub(r"[\s\-().]", "", number.strip())
    if cleaned.lower() in _WITHHELD or not _E164.match(cleaned):
        return None
    return cleaned


class NumberKey:
    """Seals numbers (Fernet) and finds them again (an HMAC under a key derived from the same file)."""

    def __init__(self, key: bytes):
        self._fernet = Fernet(key)
        self._lookup = hashlib.sha256(b"tingwen subscriber lookup\0" + base64.urlsafe_b64decode(key)).digest()

    def lookup(self, number: str) -> str:
        return hmac.new(self._lookup, number.encode("ascii"), hashlib.sha256).hexdigest()

    def seal(self, number: str) -> str:
        return self._fernet.encrypt(number.encode("ascii")).decode("ascii")

    def open(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode("ascii")).decode("ascii")

    @property
    def fingerprint(self) -> str:
        return self.lookup("+0 key check")[:16]


@cache
def load_number_key(path: Path) -> NumberKey:
    """The key in `path`, made on first use (readable by us alone); a damaged one is refused by
    name: making a new one would leave every stored number sealed for ever."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(Fernet.generate_key())
        try:
            os.link(temporary, path)  # never over a key another process has just made
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    try:
        return NumberKey(path.read_bytes().strip())
    except ValueError:
        raise StoreUnreadable(path, "the subscriber key", "not the Fernet key tingwen wrote") from None


