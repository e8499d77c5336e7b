"""Running a benchmark's parts as processes of their own: the script starts itself again
with ``--role``, each role prints ``READY`` once it serves, and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def spawn(script: str, role: str, *args: str) -> subprocess.Popen[str]:
    """Start ``script --role role args…`` and wait for its ``READY``."""
    process = subprocess.Popen(
        [sys.executable, script, "--role", role, *args], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)})
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "READY":
        process.kill()
        raise RuntimeError(f"{role} did not start: {line!r}")
    return process


def stop(process: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """SIGTERM, as a process manager would; SIGKILL if it does not stop in ``timeout``."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()


async def serve_until_stopped() -> None:
    """Say ``READY`` and serve until SIGTERM."""
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    print("READY", flush=True)
    await stopped.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def bench_database(postgres: bool, folder: Path) -> Iterator[str]:
    """A database URL for a benchmark: a SQLite file in ``folder``, or with ``postgres`` a
    throwaway PostgreSQL server (the test suite's ``tests/postgres.py``), stopped after."""
    if not postgres:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    from tests.postgres import PostgresServer

    server = PostgresServer().start()
    try:
        yield server.create_database("bench")
    finally:
        server.stop()
