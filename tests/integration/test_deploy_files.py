"""The deployment files (Dockerfile, compose.yaml, deploy/nginx.conf) cannot drift from the
code: Docker is not available here, so this reads them and checks every name they use
against the settings object, the command line and the routes the app serves."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.config import Settings

ROOT = Path(__file__).resolve().parents[2]
BOTS = ("bot-1", "bot-2")


def setting_names() -> set[str]:
    """Every environment variable name ``Settings`` reads (field names and aliases)."""
    names: set[str] = set()
    for name, field in Settings.model_fields.items():
        names.add(name.upper())
        alias = field.validation_alias
        for choice in getattr(alias, "choices", ()) or ():
            names.add(str(choice))
    return names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_has_postgres_a_migration_two_replicas_and_a_proxy(
        compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "migrate", *BOTS, "proxy"}
    for name in ("postgres", *BOTS, "proxy"):
        assert compose["services"][name].get("healthcheck"), f"{name} has no health check"


def test_every_environment_name_a_replica_gets_is_a_setting(compose: dict[str, Any]) -> None:
    known = setting_names()
    for name in (*BOTS, "migrate"):
        environment = compose["services"][name]["environment"]
        unknown = {key for key in environment if key.casefold() not in
                   {k.casefold() for k in known}}
        assert not unknown, f"{name}: {sorted(unknown)} are not settings"
        assert environment["DATABASE_URL"].startswith("postgresql://")


def test_replicas_wait_for_the_migration_and_never_migrate_themselves(
        compose: dict[str, Any]) -> None:
    migrate = compose["services"]["migrate"]
    result = CliRunner().invoke(cli, [*migrate["command"], "--help"])
    assert result.exit_code == 0, result.output
    for name in BOTS:
        bot = compose["services"][name]
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "AUTO_MIGRATE" not in bot["environment"]
        assert "/readyz" in " ".join(bot["healthcheck"]["test"])


def test_the_proxy_spreads_requests_over_every_replica_on_its_port(
        compose: dict[str, Any]) -> None:
    conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    upstreams = re.findall(r"^\s*server\s+([\w-]+):(\d+)", conf, re.MULTILINE)
    ports = {compose["services"][name]["environment"]["PORT"] for name in BOTS}
    assert sorted(host for host, _ in upstreams) == sorted(BOTS)
    assert {port for _, port in upstreams} == ports


def test_the_image_runs_the_console_script_as_a_user_with_a_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["scripts"]
    assert f'ENTRYPOINT ["{next(iter(scripts))}"]' in dockerfile
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    for folder in re.findall(r"^COPY\s+(\S+)\s", dockerfile, re.MULTILINE):
        assert (ROOT / folder).exists(), f"the Dockerfile copies {folder}, which is missing"
    for name in re.findall(r"^\s*(?:ENV\s+)?([A-Z_]+)=", dockerfile, re.MULTILINE):
        if not name.startswith(("PYTHON", "PIP_")):
            assert name in setting_names(), f"the Dockerfile sets {name}, not a setting"
