"""Every sentence a person reads is a template: no chat surface and no part of the
conversation layer hands a person a string literal or an f-string of its own.

The scan reads the AST of every module under ``handlers/`` and ``bot/conversation/`` and
flags a string (a literal with a space in it, or an f-string) passed to what reaches a
person: ``respond``/``say``/``send_activity``/``chat_postMessage``/``chat_update``
arguments, the ``text``/``message`` of a reply, a field error of ``InvalidInput``, or the
message of a ``DomainError`` raised there.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.unit.test_architecture import ROOT

SCANNED = ("handlers", "bot/conversation")
SPEAKING_CALLS = frozenset({"respond", "say", "send_activity", "chat_postMessage",
                            "chat_update", "chat_postEphemeral", "tell_text", "Reply",
                            "status", "InvalidInput", "DomainError", "NotAllowed",
                            "NotFound"})
SPEAKING_KEYWORDS = frozenset({"text", "message", "headline"})


def _name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _sentences(node: ast.AST) -> list[ast.AST]:
    """String literals with a space (words, not ids) and f-strings inside ``node``."""
    found: list[ast.AST] = []
    for inner in ast.walk(node):
        if isinstance(inner, ast.JoinedStr):
            found.append(inner)
        elif isinstance(inner, ast.Constant) and isinstance(inner.value, str) \
                and " " in inner.value.strip():
            found.append(inner)
    return found


def spoken_literals(source: str) -> list[int]:
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        speaking = _name(node) in SPEAKING_CALLS
        values = [*(node.args if speaking else ()),
                  *(k.value for k in node.keywords
                    if speaking or k.arg in SPEAKING_KEYWORDS)]
        for value in values:
            lines += [getattr(s, "lineno", 0) for s in _sentences(value)]
    return sorted(set(lines))


def modules() -> list[Path]:
    return sorted(p for folder in SCANNED for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_hands_a_person_a_sentence_of_its_own(path: Path) -> None:
    found = spoken_literals(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)}: sentences on lines {found}; " \
                      "put them in templates/"


def test_the_scan_finds_what_it_is_meant_to_find() -> None:
    caught = spoken_literals(
        'async def f(respond, error, x):\n'
        '    await respond(text="You are paused.")\n'
        '    await respond(text=f"{x} is paused")\n'
        '    raise InvalidInput({"until": "not a date"})\n'
        '    return Reply(message="Sorry, no.")\n'
        '    await respond(text=render("ok"), response_type="ephemeral")\n')
    assert caught == [2, 3, 4, 5]
