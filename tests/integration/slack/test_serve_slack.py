"""`advocate-bot serve` with and without Slack settings, as an operator runs it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.integration.test_serve import bot_env, free_port


def post(url: str) -> int:
    request = urllib.request.Request(url, data=b"command=%2Freference", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def run_serve(tmp_path: Path, **env: str) -> tuple[int, str]:
    """Start serve, POST an unsigned request to /slack/events, stop; (status, output)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)],
        env=bot_env(tmp_path, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status = post(f"http://127.0.0.1:{port}/slack/events")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"serve did not come up:\n{process.communicate()[0]}")
                time.sleep(0.2)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    return status, output


def test_without_slack_settings_serve_says_so_once_and_has_no_slack_route(
        tmp_path: Path) -> None:
    status, output = run_serve(tmp_path)
    assert status == 404
    lines = [line for line in output.splitlines() if "Slack" in line]
    assert len(lines) == 1 and "Slack is not configured" in lines[0]


def test_with_slack_settings_the_route_is_there_and_refuses_unsigned_requests(
        tmp_path: Path) -> None:
    status, output = run_serve(tmp_path, SLACK_BOT_TOKEN="xoxb-test",
                               SLACK_SIGNING_SECRET="s3cret-s3cret-s3cret",
                               SLACK_API_URL="http://127.0.0.1:9/api/")
    assert status == 401
    assert "Slack is on: HTTP at POST" in output
    assert "s3cret" not in output and "xoxb-test" not in output
    assert "Traceback" not in output.split("shutting down")[0]
