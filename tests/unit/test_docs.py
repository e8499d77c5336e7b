"""The README stays true: every setting is documented, CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_configuration_table() -> None:
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in README]
    assert not missing, f"settings not documented in README.md: {missing}"


def test_the_readme_has_a_run_and_a_test_command_for_a_fresh_machine() -> None:
    for marker, needle in (("try-command", "advocate-bot try"),
                           ("run-command", "advocate-bot serve"), ("test-command", "pytest")):
        match = re.search(rf"<!-- {marker} -->\n```bash\n(.+)\n```", README)
        assert match, f"README.md lacks the {marker} block"
        assert match.group(1).startswith("python3.11 -m venv .venv")
        assert needle in match.group(1)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in ci
    assert 'bash -c "$test_command"' in ci
