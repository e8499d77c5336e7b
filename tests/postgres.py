"""A throwaway PostgreSQL server for the test suite.

Storage must behave the same on SQLite and PostgreSQL, so the integration tests run on a
real PostgreSQL server that the suite starts itself (no docker, no shared server): it
finds the installed binaries, ``initdb``s a cluster in a temporary directory, starts it on
a free port on 127.0.0.1 with its socket inside that directory, and removes everything
when the test session ends.

``initdb`` refuses to run as root, which is what CI and containers often are; then the
cluster belongs to the ``postgres`` system user and every server command runs as it.

Set ``ADVOCATE_BOT_TEST_PG_BIN`` to a directory holding ``initdb`` and ``pg_ctl`` to pick
specific binaries.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN_ENV = "ADVOCATE_BOT_TEST_PG_BIN"
SERVER_USER = "postgres"  # the system user that owns the cluster when we are root
SUPERUSER = "postgres"  # the database role initdb creates


class PostgresUnavailable(RuntimeError):
    """No usable PostgreSQL installation; the message says what was looked for."""


def find_bin_dir() -> Path:
    """The directory of the newest installed PostgreSQL server binaries."""
    candidates: list[Path] = []
    if os.environ.get(BIN_ENV):
        candidates.append(Path(os.environ[BIN_ENV]))
    versioned = []
    for path in Path("/usr/lib/postgresql").glob("*/bin"):
        match = re.fullmatch(r"(\d+)(?:\.(\d+))?", path.parent.name)
        if match:
            versioned.append(((int(match[1]), int(match[2] or 0)), path))
    candidates += [path for _, path in sorted(versioned, reverse=True)]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "pg_ctl").is_file():
            return directory
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) found in /usr/lib/postgresql/*/bin, "
        f"on PATH or in ${BIN_ENV}; install one, e.g. `apt-get install postgresql`"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """One running cluster. Use as a context manager, or ``start()`` / ``stop()``."""

    bin_dir: Path = field(default_factory=find_bin_dir)
    port: int = 0
    root: Path | None = None
    _running: bool = False
    _as_user: dict[str, Any] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.root is not None
        return self.root / "socket"

    @property
    def log_file(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        """A plain libpq-style URL, as a user would paste it (``normalize_url`` adapts it)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        self.root = Path(tempfile.mkdtemp(prefix="advocate-bot-pg-"))
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root, and initdb refuses root: need a '{SERVER_USER}' "
                    "system user to own the test cluster"
                ) from None
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        self.root.chmod(0o700)
        atexit.register(self.stop)
        try:
            self._run(self.bin_dir / "initdb", "--pgdata", str(self.data_dir),
                      "--username", SUPERUSER, "--auth", "trust", "--encoding", "UTF8",
                      "--no-locale", "--no-sync", "--no-instructions")
            self._run("mkdir", "-p", str(self.socket_dir))
            self._start_server()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_server(self) -> None:
        # The port is free when chosen but another process may take it before the server
        # binds it; try a few.
        for attempt in range(3):
            self.port = _free_port()
            options = " ".join([
                f"-p {self.port}",
                f"-k {self.socket_dir}",
                "-c listen_addresses=127.0.0.1",
                # Durability is worthless for a throwaway cluster; speed is not.
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ])
            try:
                self._run(self.bin_dir / "pg_ctl", "start", "--pgdata", str(self.data_dir),
                          "--log", str(self.log_file), "--wait", "--timeout", "60",
                          "-o", options)
            except PostgresUnavailable:
                if attempt == 2:
                    raise
            else:
                self._running = True
                return

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (optionally as a copy of ``template``); its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"unsafe database name {name!r}")
        args = ["--host", str(self.socket_dir), "--port", str(self.port),
                "--username", SUPERUSER]
        if template:
            args += ["--template", template]
        self._run(self.bin_dir / "createdb", *args, name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._run(self.bin_dir / "dropdb", "--host", str(self.socket_dir), "--port",
                  str(self.port), "--username", SUPERUSER, "--if-exists", "--force", name)

    def stop(self) -> None:
        """Stop the server at once (``-m immediate``: nothing worth keeping) and delete it.

        Safe to call twice; registered with ``atexit`` in case the session dies early.
        """
        if self._running:
            self._running = False
            with contextlib.suppress(PostgresUnavailable):
                self._run(self.bin_dir / "pg_ctl", "stop", "--pgdata", str(self.data_dir),
                          "--mode", "immediate", "--wait")
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _run(self, *command: str | Path) -> None:
        try:
            subprocess.run(
                [str(part) for part in command],
                check=True,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                cwd=self.root,
                timeout=120,
                **self._as_user,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
            output = getattr(error, "stderr", "") or getattr(error, "stdout", "") or ""
            log = ""
            if self.root is not None and self.log_file.exists():
                log = self.log_file.read_text(errors="replace")[-2000:]
            raise PostgresUnavailable(
                f"{Path(str(command[0])).name} failed: {error}\n{output}\n{log}".rstrip()
            ) from error

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
