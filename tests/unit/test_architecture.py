"""The core stays platform-neutral: bot/domain, bot/conversation, bot/services and
bot/roster_csv import no SDK, ORM, network or template library, and nothing from storage/
or handlers/ (docs/design.md, "Who may import whom"). A small AST walk instead of
import-linter, so it runs with the unit tests and names the file and line that broke the
rule."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE_PACKAGES = ("bot/domain", "bot/conversation", "bot/services", "bot/roster_csv")
FORBIDDEN = ("slack_bolt", "slack_sdk", "botbuilder", "sqlalchemy", "aiohttp", "jinja2",
             "storage", "handlers")


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported_modules(source: str, module: str, *, is_package: bool = False
                     ) -> list[tuple[int, str]]:
    """Every module ``source`` imports, absolute, with its line: plain and ``from``
    imports (relative ones resolved against ``module``) and ``importlib.import_module`` /
    ``__import__`` calls with a literal name."""
    found: list[tuple[int, str]] = []
    package = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                name = ".".join([*base, *([node.module] if node.module else [])])
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            found.extend((node.lineno, f"{name}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if called in ("import_module", "__import__") and isinstance(first, ast.Constant) \
                    and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    bad = []
    for line, name in imported_modules(source, module, is_package=is_package):
        root = name.split(".", 1)[0]
        if root in FORBIDDEN:
            bad.append(f"{module}:{line} imports {name}")
    return sorted(set(bad))


def core_files() -> list[Path]:
    files = [p for package in CORE_PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    assert files, "found no core modules: is ROOT right?"
    return files


@pytest.mark.parametrize("path", core_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_modules_import_no_sdk_orm_or_outer_layer(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert violations(source, _module_name(path), is_package=path.name == "__init__.py") == []


@pytest.mark.parametrize("source", [
    "import slack_sdk",
    "import sqlalchemy.ext.asyncio as sa",
    "from aiohttp import web",
    "from botbuilder.core import TurnContext",
    "from jinja2 import Environment",
    "from storage.repositories import SqlUnitOfWork",
    "from handlers.slack import app",
    "from ...storage import tables",
    "import importlib\nimportlib.import_module('slack_bolt.app')",
    "def f():\n    import sqlalchemy\n",
])
def test_the_check_catches_every_way_of_importing_a_forbidden_module(source: str) -> None:
    assert violations(source, "bot.services.example") != []


@pytest.mark.parametrize("source", [
    "from bot.domain.model import Advocate",
    "from . import context",
    "from .context import send",
    "import datetime, zoneinfo",
    "from bot.ports import UnitOfWork",
])
def test_the_check_lets_core_imports_through(source: str) -> None:
    assert violations(source, "bot.services.example") == []
