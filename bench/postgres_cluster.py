"""A throwaway PostgreSQL cluster from Debian's packages, for the tests and the load bench:
initdb and pg_ctl as the unprivileged `postgres` user when we are root (PostgreSQL refuses to run
as root, and CI runs as root), listening on a socket folder only."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
from pathlib import Path

PORT = 5433  # in the socket folder's name space only: no TCP port is opened


class Cluster:
    def __init__(self, folder: Path):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            raise RuntimeError("PostgreSQL is needed (Debian's postgresql, listed in scripts/system-packages.txt)")
        self.binaries = Path(found[-1]).parent
        self.folder = Path(folder)
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self._names = itertools.count()

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_postgres, *args], capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{Path(args[0]).name} failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")

    def start(self) -> Cluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            owner = pwd.getpwnam("postgres")
            for path in (self.folder, *self.folder.parents):
                if str(path) in ("/", "/tmp"):
                    break
                os.chmod(path, os.stat(path).st_mode | 0o711)  # the postgres user may walk in
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        data = self.folder / "data"
        self._run(str(self.binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--encoding", "UTF8", "--locale", "C.UTF-8")
        options = f"-k {self.folder} -c listen_addresses='' -p {PORT} -c max_connections=300"
        self._run(str(self.binaries / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "server.log"), "-w", "-o", options, "start")
        return self

    def database(self) -> str:
        """A new empty database; its URL."""
        name = f"tingwen_{next(self._names)}"
        self._run(str(self.binaries / "createdb"), "-h", str(self.folder), "-p", str(PORT), "-U", "postgres", name)
        return f"postgresql://postgres@/{name}?host={self.folder}&port={PORT}"

    def pid(self) -> int | None:
        """The postmaster's process id (its backends are its children), None if not running."""
        try:
            return int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        subprocess.run([*self.as_postgres, str(self.binaries / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(self.folder, ignore_errors=True)
