"""Every sentence a person reads is a template: no chat surface, no part of the
conversation layer and no service or domain rule hands a person a string literal or an
f-string of its own.

The scan reads the AST of every module under ``handlers/``, ``bot/conversation/``,
``bot/services/`` and ``bot/domain/`` and flags a string (a literal with a space in it, or
an f-string) passed to what reaches a person: ``respond``/``say``/``send_activity``/
``chat_postMessage``/``chat_update`` arguments, the ``text``/``message`` of a reply, a
field error of ``InvalidInput`` (or one put into an ``errors`` dict), a ``Problem``, or
the argument of a ``DomainError`` (errors carry a code and parameters; their words are in
``templates/text/errors/``). In ``handlers/`` a module-level constant holding a sentence is
flagged too: words defined beside the code that shows them belong in ``templates/``.

``bot/domain`` also gives reasons (why an advocate fits, why a limit says no); those are
``Problem``s worded by ``templates/text/reasons/``, so there a string is flagged where a
reason is collected: passed to ``append``/``extend``/``add``/``insert``, returned or yielded
in a list or tuple, or given as a keyword named ``*reason``/``*reasons``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.unit.test_architecture import ROOT

SCANNED = ("handlers", "bot/conversation", "bot/services", "bot/domain")
SPEAKING_CALLS = frozenset({"respond", "say", "send_activity", "chat_postMessage",
                            "chat_update", "chat_postEphemeral", "tell_text", "Reply",
                            "status", "InvalidInput", "DomainError", "NotAllowed",
                            "NotFound", "LimitReached", "IllegalTransition", "UnknownAnswer",
                            "SlackLookupFailed", "Problem", "files_upload_v2"})
SPEAKING_KEYWORDS = frozenset({"text", "message", "headline"})
COLLECTING_CALLS = frozenset({"append", "extend", "add", "insert"})
_WORDS = re.compile(r"[A-Za-z]+ [A-Za-z]+")


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


def _error_entries(node: ast.AST) -> list[ast.AST]:
    """``errors[name] = <value>``: a field error put into the dict an ``InvalidInput``
    will carry."""
    if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) and getattr(t.value, "id", "") == "errors"
            for t in node.targets):
        return [node.value]
    return []


def module_sentences(source: str) -> list[int]:
    """Module-level constants holding words (``HINT = "Type help to start."``)."""
    lines: list[int] = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            for inner in ast.walk(node.value):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str) \
                        and _WORDS.search(inner.value):
                    lines.append(inner.lineno)
    return sorted(set(lines))


def spoken_literals(source: str) -> list[int]:
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        for value in _error_entries(node):
            lines += [getattr(s, "lineno", 0) for s in _sentences(value)]
        if not isinstance(node, ast.Call):
            continue
        speaking = _name(node) in SPEAKING_CALLS
        values = [*(node.args if speaking else ()),
                  *(k.value for k in node.keywords
                    if speaking or k.arg in SPEAKING_KEYWORDS)]
        for value in values:
            lines += [getattr(s, "lineno", 0) for s in _sentences(value)]
    return sorted(set(lines))


def reason_literals(source: str) -> list[int]:
    """Strings collected as reasons (``reasons.append(f"speaks {x}")``, ``return ["..."]``,
    ``type_reason=f"..."``), where a ``Problem`` belongs."""
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        values: list[ast.AST] = []
        if isinstance(node, ast.Call):
            if _name(node) in COLLECTING_CALLS and isinstance(node.func, ast.Attribute):
                values += node.args
            values += [k.value for k in node.keywords
                       if k.arg and k.arg.endswith(("reason", "reasons"))]
        elif isinstance(node, ast.Return | ast.Yield) and isinstance(
                node.value, ast.List | ast.Tuple | ast.ListComp | ast.GeneratorExp):
            values.append(node.value)
        for value in values:
            lines += [getattr(s, "lineno", 0) for s in _sentences(value)]
    return sorted(set(lines))


def modules() -> list[Path]:
    return sorted(p for folder in SCANNED for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_hands_a_person_a_sentence_of_its_own(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    found = spoken_literals(source)
    if path.is_relative_to(ROOT / "handlers"):
        found = sorted({*found, *module_sentences(source)})
    if path.is_relative_to(ROOT / "bot" / "domain"):
        found = sorted({*found, *reason_literals(source)})
    assert not found, f"{path.relative_to(ROOT)}: sentences on lines {found}; " \
                      "put them in templates/"


def test_the_scan_finds_what_it_is_meant_to_find() -> None:
    caught = spoken_literals(
        'async def f(respond, error, x):\n'
        '    await respond(text="You are paused.")\n'
        '    await respond(text=f"{x} is paused")\n'
        '    raise InvalidInput({"until": "not a date"})\n'
        '    return Reply(message="Sorry, no.")\n'
        '    await respond(text=render("ok"), response_type="ephemeral")\n'
        '    raise NotFound(f"no advocate with email {x}")\n'
        '    errors["until"] = "Pick a day from today on."\n'
        '    errors["until"] = Problem("day_before_today")\n'
        '    raise NotAllowed("not_yours")\n'
        '    raise LimitReached(["snoozed until " + x])\n')
    assert caught == [2, 3, 4, 5, 7, 8, 11]
    assert module_sentences(
        'HINT = "Type help to start."\n'
        'COMMANDS = (("reference", "New reference request"),)\n'
        'BLOCKS = ("proposed_time_1", "notes")\n'
        'def f():\n'
        '    local = "a sentence in a function"\n') == [1, 2]
    assert reason_literals(
        'def f(a, found, reasons):\n'
        '    reasons.append(f"speaks {a.language}")\n'
        '    found.add("on leave", None)\n'
        '    reasons.extend(f"caution: {c}" for c in a.cautions)\n'
        '    Criteria(type_reason=f"does not do {a.kind}", name="x y")\n'
        '    reasons.append(Problem("speaks", language=a.language))\n'
        '    reasons.append(a.region.strip())\n'
        '    return ["no reference given yet"]\n'
        '    return [Problem("never_referenced")]\n') == [2, 3, 4, 5, 8]
