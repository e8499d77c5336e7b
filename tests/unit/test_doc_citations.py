"""Citations of the project's docs in code stay true: a module that says
``(docs/design.md, "Rules that keep it correct")`` points at a file and a heading that
exist, so a reader who follows it lands on the explanation."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CITATION = re.compile(r'docs/([\w-]+\.md)(?:[,\s(]*"([^"\n]+)")?')
HEADING = re.compile(r"^#+\s+(.+?)\s*$", re.MULTILINE)


def citations(text: str) -> list[tuple[str, str | None]]:
    """Every ``docs/NAME.md`` cited in ``text``, with the section named after it (if any)."""
    return [(m.group(1), m.group(2)) for m in CITATION.finditer(text)]


def unresolved(text: str, docs: Path) -> list[str]:
    """The citations in ``text`` whose file, or whose section heading, ``docs`` lacks."""
    bad = []
    for name, section in citations(text):
        path = docs / name
        if not path.is_file():
            bad.append(f"docs/{name} does not exist")
        elif section is not None and not any(
                h.startswith(section) for h in HEADING.findall(path.read_text("utf-8"))):
            bad.append(f'docs/{name} has no heading "{section}"')
    return bad


def python_files() -> list[Path]:
    found = [p for folder in ("bot", "handlers", "storage", "tests", "bench")
             for p in sorted((ROOT / folder).rglob("*.py"))]
    assert found, "found no modules: is ROOT right?"
    return found


def test_every_docs_citation_names_a_file_and_heading_that_exist() -> None:
    this = Path(__file__).resolve()
    problems = [f"{path.relative_to(ROOT)}: {problem}" for path in python_files()
                if path != this  # its own examples cite missing files on purpose
                for problem in unresolved(path.read_text(encoding="utf-8"), ROOT / "docs")]
    assert problems == []


def test_the_check_finds_a_missing_file_and_a_missing_heading(tmp_path: Path) -> None:
    (tmp_path / "guide.md").write_text("# Guide\n\n## Rules that keep it correct\n")
    text = ('see (docs/guide.md, "Rules that keep it correct": idempotency), '
            'docs/guide.md ("Rules"), (docs/guide.md,\n"Nowhere") and docs/gone.md')
    assert unresolved(text, tmp_path) == ['docs/guide.md has no heading "Nowhere"',
                                          "docs/gone.md does not exist"]
