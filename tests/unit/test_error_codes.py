"""Every refusal, field error and reason is a code with a template that words it.

The scan reads the AST of ``bot/`` and ``handlers/`` for every code an error is raised
with (``NotAllowed("not_yours")``, ``Problem("time_in_past", ...)``, the codes error
subclasses pass to ``super().__init__``, and ``require(..., action=...)``'s actions), and
renders each one's template (``templates/text/errors/<code>.txt.j2``, or for a reason the
matcher or the limits give, ``templates/text/reasons/<code>.txt.j2``) with the parameters
the raise site names: a literal where the site has one, else a sample value of the kind
that parameter carries. A code without a template, a parameter its template does not
expect to be missing, or a template no code uses fails here, not in front of a person.
Reasons also survive the JSON a stored message context keeps them in.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from jinja2 import UndefinedError

from bot.domain.errors import DomainError, InvalidInput, NotAllowed, Problem
from bot.rendering import PLAIN, Renderer, UnknownProblem, templates_dir
from handlers.slack.blockkit import MARKUP as SLACK
from handlers.teams.replies import MARKUP as TEAMS
from tests.unit.test_architecture import ROOT

ERRORS = frozenset({"DomainError", "NotAllowed", "NotFound", "UnknownAnswer", "Problem"})
ERROR_BASES = frozenset({*ERRORS, "Exception"} - {"Problem", "Exception"})

# What each parameter carries, for a raise site that passes a variable.
SAMPLES: dict[str, Any] = {
    "request_id": 7, "engagement_id": 3, "advocate_id": 4, "open_count": 2, "count": 7,
    "needed_by": date(2026, 3, 20), "earliest": date(2026, 3, 2),
    "latest": datetime(2026, 3, 21, 4, 0, tzinfo=UTC),
    "start": datetime(2026, 3, 10, 14, 0, tzinfo=UTC), "zone": "America/New_York",
    "name": "Ada Lovelace", "email": "ada@customer.example", "text": "ada", "typed": "tue",
    "answer": "maybe", "reasons": [Problem("snoozed_until",
                                           until=datetime(2026, 3, 7, 9, 0, tzinfo=UTC))],
    "engagement_state": "completed", "request_state": "cancelled", "state": "unfulfilled",
    "recorded": "completed", "outcome": "no_show", "kind": "Case study",
    "fits": [("Ada Lovelace", "a1@x.example"), ("Ada Byron", "a2@x.example")],
    "choices": [1, 3, 6], "bands": ["1-50", "51-200"],
    "most": 500, "length": 612, "least": 14, "low": 1, "high": 100,
    "field": "max_per_90_days", "program": True,
    "what": "request", "current": "open", "target": "closed",
    "roles": ["account_owner", "program_manager"], "action": "manage_roster",
    "errors": {"needed_by": Problem("not_a_date")},
    "problems": [Problem("times_in_past"), Problem("times_repeated")],
    # reasons (templates/text/reasons/)
    "status": "paused", "until": datetime(2026, 3, 7, 9, 30, tzinfo=UTC),
    "through": date(2026, 4, 3), "open": 2, "used": 3, "cap": 3, "days": 90,
    "around": date(2026, 4, 1), "reserved": 1, "next_slot": date(2026, 5, 1),
    "engaged": date(2026, 3, 1), "clear": date(2026, 3, 15), "label": "Reference call",
    "language": "German", "industry": "Fintech", "products": ["Payments API", "Ledger"],
    "use_cases": ["Onboarding"], "region": "EMEA", "same": True, "size": "1001-5000",
    "score": 80, "caution": Problem("renews_soon", days=3),
    "first": "2026-12-31", "last": "2026-10-01",  # a report's period, backwards
    # nominations
    "by": "Olive Owner", "on": date(2026, 2, 1), "threshold": 50, "nps": 5,
    "day": date(2026, 3, 20),
}
REASONS = templates_dir() / "text" / "reasons"


def _is_reason(code: str) -> bool:
    return (REASONS / f"{code}.txt.j2").exists()


@dataclass(frozen=True)
class Site:
    where: str
    code: str
    params: dict[str, Any]


def _value(node: ast.expr, name: str) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        if name not in SAMPLES:
            raise AssertionError(f"add a sample for the error parameter {name!r}") from None
        return SAMPLES[name]


def _site(where: str, call: ast.Call, code_arg: ast.expr | None) -> Site:
    assert isinstance(code_arg, ast.Constant) and isinstance(code_arg.value, str), \
        f"{where}: an error's code must be a string literal, so it can be checked"
    params = {k.arg: _value(k.value, k.arg) for k in call.keywords if k.arg}
    return Site(where, code_arg.value, params)


def _sites_in(path: Path) -> list[Site]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = str(path.relative_to(ROOT))
    errors = set(ERRORS)
    for node in ast.walk(tree):  # the errors a module defines count as errors too
        if isinstance(node, ast.ClassDef) and any(
                getattr(b, "id", None) in ERROR_BASES for b in node.bases):
            errors.add(node.name)
    found: list[Site] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        line = f"{where}:{node.lineno}"
        if where == "bot/domain/errors.py" and node.args and getattr(node.args[0], "id", "") \
                == "code":
            continue  # DomainError forwarding its own code to its Problem
        if name in errors and node.args and name not in ("InvalidInput", "LimitReached"):
            found.append(_site(line, node, node.args[0]))
        elif name == "__init__" and isinstance(func, ast.Attribute) and isinstance(
                func.value, ast.Call) and getattr(func.value.func, "id", "") == "super" \
                and node.args and isinstance(node.args[0], ast.Constant):
            found.append(_site(line, node, node.args[0]))
        elif name == "require":
            action = next((k.value for k in node.keywords if k.arg == "action"), None)
            roles = [a.attr.lower() for a in node.args if isinstance(a, ast.Attribute)
                     and getattr(a.value, "id", "") == "Role"]
            assert isinstance(action, ast.Constant), f"{line}: require() names its action"
            found.append(Site(line, "only_role", {"roles": roles, "action": action.value}))
    return found


def raise_sites() -> list[Site]:
    paths = sorted(p for folder in ("bot", "handlers") for p in (ROOT / folder).rglob("*.py"))
    return [site for path in paths for site in _sites_in(path)]


SITES = raise_sites()


def test_the_scan_sees_the_errors_it_is_meant_to_see() -> None:
    codes = {site.code for site in SITES}
    assert {"not_yours", "only_role", "request_needed_by_passed", "limit_reached",
            "illegal_transition", "slack_lookup_failed", "time_in_past", "invalid"} <= codes
    assert len(SITES) > 80


@pytest.mark.parametrize("site", SITES, ids=lambda s: f"{s.code}@{s.where}")
def test_every_code_raised_has_a_template_that_renders_its_parameters(site: Site) -> None:
    renderer = Renderer()
    for markup in (PLAIN, SLACK, TEAMS):
        problem = Problem(site.code, **site.params)
        text = renderer.problem_text(problem, markup)
        assert text and "{" not in text and "Undefined" not in text, text
        if _is_reason(site.code):  # a phrase, listed with others; kept as JSON in messages
            assert text[-1] != "." and text == text.strip(), text
            assert renderer.problem_text(json.loads(json.dumps(problem.to_json())),
                                         markup) == text
        else:
            assert text[-1] in ".?)" or text.startswith(("no advocate", "advocate #")), text


def test_every_error_template_is_a_code_something_raises() -> None:
    errors, reasons = ({p.name.removesuffix(".txt.j2") for p in folder.glob("*.txt.j2")}
                       for folder in (templates_dir() / "text" / "errors", REASONS))
    assert not errors & reasons  # one code, one template
    assert errors | reasons == {site.code for site in SITES}
    assert {"engagement_cap", "same_industry", "caution"} <= reasons


def test_an_unknown_code_or_a_missing_parameter_fails_loudly() -> None:
    renderer = Renderer()
    with pytest.raises(UnknownProblem, match="no_such_code"):
        renderer.problem_text(Problem("no_such_code"))
    with pytest.raises(UndefinedError):
        renderer.problem_text(Problem("request_still_matching"))  # no request_id
    with pytest.raises(UndefinedError):
        renderer.problem_text(NotAllowed("only_role", roles=["rep"], action="fly"))


def test_an_error_is_its_code_for_the_log_and_its_template_for_a_person() -> None:
    error = DomainError("request_needed_by_passed", request_id=7,
                        needed_by=date(2026, 3, 20))
    assert str(error) == "request_needed_by_passed(request_id=7, needed_by=" \
                         "datetime.date(2026, 3, 20))"
    assert error.problem == Problem("request_needed_by_passed", request_id=7,
                                    needed_by=date(2026, 3, 20))
    assert Renderer().problem_text(error) == (
        "Request #7 was needed by 2026-03-20, which has passed; cancel it or open a new one.")
    invalid = InvalidInput({"needed_by": Problem("not_a_date"), "": Problem("form_lost")})
    assert str(invalid) == "needed_by: not_a_date; : form_lost"
    with pytest.raises(AttributeError):
        invalid.problem.code = "x"  # type: ignore[misc]


@pytest.mark.parametrize(("problem", "words"), [
    (Problem("renews_soon", days=0), "renews today"),
    (Problem("renews_soon", days=1), "renews in 1 day"),
    (Problem("caution", caution=Problem("renews_soon", days=21)), "caution: renews in 21 days"),
    (Problem("shared_use_cases", use_cases=["Checkout", "Payouts"]),
     "use cases: Checkout, Payouts"),
    (Problem("company_size_fits", same=False, size="51-200"),
     "similar company size (51-200 employees)"),
    (Problem("in_cooldown", engaged=date(2026, 3, 1), days=14, clear=None),
     "engagement on 2026-03-01 is within the 14-day cooldown"),
    (Problem("engagement_cap", used=2, cap=3, days=90, around=date(2026, 4, 1), reserved=1,
             next_slot=date(2026, 6, 1)),
     "2 of 3 engagements within 90 days of 2026-04-01 and 1 open ask holding a slot "
     "(next slot 2026-06-01)"),
])
def test_each_way_a_reason_reads(problem: Problem, words: str) -> None:
    renderer = Renderer()
    assert renderer.problem_text(problem) == words
    assert renderer.problem_text(json.loads(json.dumps(problem.to_json()))) == words


def test_a_stored_reason_is_worded_back_even_one_queued_before_reasons_were_codes() -> None:
    renderer = Renderer()
    stored = {"request": {"id": 7, "reference_type_label": "Reference call",
                          "prospect_company": "Globex", "needed_by": "2026-03-20"},
              "reason": "no_matches", "asked": [], "considered": 2, "exclusions": [
                  {"reason": Problem("engagement_cap", used=3, cap=3, days=90, around=None,
                                     reserved=1, next_slot=None).to_json(), "count": 2},
                  {"reason": "does not do reference call", "count": 1}]}
    text = renderer.text("no_matches", json.loads(json.dumps(stored)))
    assert "3 of 3 engagements in the last 90 days and 1 open ask holding a slot " \
           "(no slot opens with time) (2)" in text
    assert "does not do reference call (1)" in text  # queued before the upgrade


def test_what_people_typed_stays_inert_on_each_surface() -> None:
    renderer = Renderer()
    problem = Problem("no_advocate_named", text="<!channel> [x](https://evil.example)")
    assert "&lt;!channel&gt;" in renderer.problem_text(problem, SLACK)
    assert "](https://" not in renderer.problem_text(problem, TEAMS)
    assert renderer.problem_text(problem, SLACK).endswith("`/advocates find`.")
