"""What the fuzz tests share: a running app on an event loop of its own, a log tap, and
the hostile values every door is sent.

Hypothesis drives plain (synchronous) test functions, so each module starts its app once,
on a loop in a daemon thread (``Served``), and every example reaches it over HTTP through
``Served.run``. ``LogTap`` records what the app logs while an example runs: a record at
ERROR or above, or one carrying a traceback, is a failure whatever the answer was.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any, TypeVar

from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")

# --- hostile values --------------------------------------------------------------------

ODD_STRINGS = [
    "", " ", "\x00", "a\x00b", "\u202egnp.exe", "\u200b", "\ufeff", "\r\n\t",
    "x" * 10_000, "é" * 3000, "😀" * 500, "<!channel>", "<!here> <@U0PAT>",
    "[Verify](https://evil.example)", "<https://evil.example|Click to verify>",
    "*bold* _it_ ~s~ `code`", "{{ 7*7 }}", "{% raw %}", "' OR 1=1 --", "%s%n%x",
    "1e1000000", "-1e1000000", "1e-1000000", "NaN", "Infinity", "-0", "0", "-1",
    "2147483648", "9" * 30, "1" * 5000, "0x10", "1_000", "١٢٣", "1.5", "1,5",
    "9999-12-31", "0001-01-01", "10000-01-01", "2026-02-30", "2026-03-02T25:61",
    "99999999999999", "-99999999999", "1:1", "1:2:3", ":", "::", "1:", ":1", "a:b",
    "Europe/Berlin", "Not/AZone", "../../etc/passwd", "null", "true", "[]", "{}",
]
LONE_SURROGATE = "\ud800x\udfff"  # JSON can carry it; UTF-8 cannot

hostile_text = st.one_of(
    st.sampled_from(ODD_STRINGS),
    st.text(max_size=40),
    st.sampled_from(ODD_STRINGS).map(lambda s: s + LONE_SURROGATE),
)
small_ids = st.integers(0, 4).map(str)
hostile_numbers = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=False),
    st.sampled_from([0, -1, 2**31, 2**63, 10**30, -(10**30), 1e308]))


def hostile_value(depth: int = 1) -> st.SearchStrategy[Any]:
    """Any JSON value: text, numbers, null, booleans, and (to ``depth``) lists and objects."""
    leaf = st.one_of(hostile_text, hostile_numbers, st.none(), st.booleans(), small_ids)
    if depth <= 0:
        return leaf
    inner = hostile_value(depth - 1)
    return st.one_of(leaf, st.lists(inner, max_size=3),
                     st.dictionaries(hostile_text, inner, max_size=3))


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


@st.composite
def mutated(draw: st.DrawFn, shape: dict[str, Any], *, keep: tuple[str, ...] = (),
            most: int = 2) -> dict[str, Any]:
    """``shape`` with up to ``most`` of its fields removed or replaced by hostile values
    (the top-level keys in ``keep``, and what is under them, stay as they are)."""
    body = copy.deepcopy(shape)
    for _ in range(draw(st.integers(0, most))):
        candidates = [p for p in paths(body) if p[0] not in keep]
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(hostile_value())
    return body


# --- a running app -----------------------------------------------------------------------


class Served:
    """An event loop in a daemon thread, with an exit stack for what runs on it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.stack = AsyncExitStack()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, make: Awaitable[T] | Callable[[], Awaitable[T]], timeout: float = 60) -> T:
        coroutine = make() if callable(make) else make
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        try:
            self.run(self.stack.aclose())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()

    async def settle(self, limit: float = 15.0) -> None:
        """Wait (on the app's loop) until every listener Bolt left running after its
        ack has finished."""
        deadline = self.loop.time() + limit
        me = asyncio.current_task()
        while True:
            busy = [t for t in asyncio.all_tasks() if t is not me and not t.done()
                    and _is_work(t)]
            if not busy:
                return
            if self.loop.time() > deadline:
                raise AssertionError(f"still running after {limit} s: {busy}")
            await asyncio.sleep(0.005)


def _is_work(task: asyncio.Task[Any]) -> bool:
    """A listener Bolt left running after its ack (not the servers' long-lived tasks)."""
    return "run_ack_function_asynchronously" in repr(task.get_coro())


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: "no database write" compared as a whole."""
    async with engine.connect() as connection:
        tables = [row[0] for row in await connection.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"))]
        return {table: sorted(map(tuple, await connection.execute(
                    text(f'SELECT * FROM "{table}"'))), key=repr)
                for table in tables}


class LogTap(logging.Handler):
    """Every record logged anywhere while it is attached (any thread)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._lock_records:
            self.records.append(record)

    def clear(self) -> None:
        with self._lock_records:
            self.records.clear()

    def loud(self) -> list[str]:
        """Records a deployment would page on: ERROR and above, or any traceback."""
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return [formatter.format(r) for r in list(self.records)
                if r.levelno >= logging.ERROR or r.exc_info]

    def warnings(self) -> list[logging.LogRecord]:
        return [r for r in list(self.records) if r.levelno >= logging.INFO]


def attach_tap() -> tuple[LogTap, Callable[[], None]]:
    tap = LogTap()
    root = logging.getLogger()
    level = root.level
    root.addHandler(tap)
    root.setLevel(logging.INFO)

    def detach() -> None:
        root.removeHandler(tap)
        root.setLevel(level)

    return tap, detach


class OpenIdServer:
    """The Bot Framework's OpenID metadata and signing keys, served locally (in a thread
    of its own: botbuilder fetches them with blocking ``requests`` calls, from inside the
    app's event loop). It publishes one RSA key, ``kid`` ``"published"``, whose private
    half nobody uses: every token the tests make is a forgery of some kind."""

    KID = "published"

    def __init__(self) -> None:
        import http.server

        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
        jwk = {**json.loads(RSAAlgorithm.to_jwk(public)), "kid": self.KID,
               "endorsements": ["msteams"]}
        documents: dict[str, bytes] = {}

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = documents.get(self.path, b"{}")
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        base = f"http://127.0.0.1:{self._server.server_address[1]}"
        documents["/openid"] = json.dumps({"issuer": "https://api.botframework.com",
                                           "jwks_uri": f"{base}/keys"}).encode()
        documents["/keys"] = json.dumps({"keys": [jwk]}).encode()
        self.metadata_url = f"{base}/openid"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
