"""`advocate-bot try` as a user runs it: a real process on a demo database of its own,
the sandbox page at the printed address, a clean stop; and what `serve` says about it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.integration.test_serve import bot_env, free_port


def page(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_try_serves_the_demo_sandbox_at_the_printed_address(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "try", "--port", str(port), "--no-browser"],
        env=bot_env(tmp_path, HOST="0.0.0.0", SLACK_BOT_TOKEN="xoxb-not-used",
                    SLACK_SIGNING_SECRET="not-used"),
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        shown = None
        while shown is None and time.monotonic() < deadline:
            shown = page(f"http://127.0.0.1:{port}/")
            time.sleep(0.2)
        assert shown is not None, "the sandbox never answered"
        assert "Who are you?" in shown and "Amelia Hartmann, Harbor &amp; Pine Bank" in shown
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"Sandbox: open http://127.0.0.1:{port}/ in a browser" in output
    assert "Slack is not configured" in output  # try never talks to a real workspace
    assert (tmp_path / "advocate-bot-demo.db").is_file()
    assert not (tmp_path / "bot.db").exists()  # DATABASE_URL, the real one, untouched


def test_serve_says_whether_the_sandbox_is_on_and_where(tmp_path: Path) -> None:
    from bot.cli import _sandbox_line
    from bot.config import Settings

    def line(**values: object) -> str:
        return _sandbox_line(Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}",
                                      _env_file=None, **values))  # type: ignore[call-arg]

    assert line(port=3000).startswith("Sandbox: open http://127.0.0.1:3000/ in a browser")
    assert "HOST=0.0.0.0 is not a loopback address" in line(host="0.0.0.0")
    assert "SANDBOX_ENABLED=true serves it" in line(teams_enabled=True)
    assert line(host="::1", port=8080).startswith("Sandbox: open http://[::1]:8080/")
