"""botbuilder (archived upstream) stays behind the Teams front end: nothing outside
``handlers/teams`` may import it, so replacing the SDK touches one package."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def botbuilder_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        found += [n for n in names if n.split(".")[0] in ("botbuilder", "botframework")]
    return found


def test_only_handlers_teams_imports_botbuilder() -> None:
    offenders = {
        str(path.relative_to(ROOT)): botbuilder_imports(path)
        for folder in ("bot", "handlers", "storage")
        for path in (ROOT / folder).rglob("*.py")
        if "teams" not in path.relative_to(ROOT / folder).parts[:1]
        and botbuilder_imports(path)
    }
    assert offenders == {}
    assert botbuilder_imports(ROOT / "handlers" / "teams" / "handler.py")  # the check sees it
