"""Errors the domain raises, and the reasons it gives: a code and its parameters, never a
sentence.

The words a person reads live in ``templates/text/errors/<code>.txt.j2``; the renderer's
``problem_text`` turns a ``Problem`` (or an error's) into them, marked up for the surface
that shows it (``bot/rendering.py``). Parameters stay values (dates, numbers, names), so a
template can format them for the reader. ``str(error)`` is the code and parameters, for logs.

A ``Problem`` also carries a reason (why an advocate fits, why they may not be asked now):
a code and parameters like an error's, worded by ``templates/text/reasons/<code>.txt.j2``
through the same ``problem_text`` (reasons are phrases, errors sentences). ``to_json`` and
``from_json`` keep one in a stored message context or an audit record, and bring it back to
be worded.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import Enum
from typing import Any


class Problem:
    """What is wrong (or, for a reason, what is so), as a template code and its named
    parameters. Immutable; two problems with the same code and parameters are equal."""

    __slots__ = ("_hash", "code", "params")
    code: str
    params: Mapping[str, Any]

    def __init__(self, code: str, /, **params: Any) -> None:
        # The slots' own setters (``**params`` is a new dict already): matching builds a
        # reason per rule for every advocate a "why not" list covers, so this stays cheap.
        _SET_CODE(self, code)
        _SET_PARAMS(self, params)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Problem is immutable")

    def __deepcopy__(self, memo: dict[int, Any]) -> Problem:
        return self  # immutable: a copy is the same problem

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Problem) and self.code == other.code
                and self.params == other.params)

    def __hash__(self) -> int:
        # By value, and kept: reasons are counted (``exclusion_summary``) by the ten
        # thousand, most of them one shared problem ("does not speak German").
        try:
            return self._hash
        except AttributeError:
            pass
        try:
            value = hash((self.code, frozenset(self.params.items())))
        except TypeError:  # a list or a mapping among the values
            value = hash((self.code, frozenset(self.params)))
        _SET_HASH(self, value)
        return value

    def __repr__(self) -> str:
        return f"Problem({self!s})"

    def __str__(self) -> str:
        if not self.params:
            return self.code
        return f"{self.code}(" + ", ".join(f"{k}={v!r}" for k, v in self.params.items()) + ")"

    def to_json(self) -> dict[str, Any]:
        """``{"code": ..., "params": ...}`` with JSON values: dates as ISO strings, enums as
        their values, problems inside as their own JSON (templates word either form)."""
        return {"code": self.code, "params": {k: _json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Problem:
        """The problem ``to_json`` made (dates stay ISO strings)."""
        return cls(str(data["code"]), **{k: _unjson(v) for k, v in data["params"].items()})


_SET_CODE = Problem.code.__set__  # type: ignore[attr-defined]
_SET_PARAMS = Problem.params.__set__  # type: ignore[attr-defined]
_SET_HASH = Problem._hash.__set__  # type: ignore[attr-defined]


def _json(value: Any) -> Any:
    if isinstance(value, Problem):
        return value.to_json()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    return value


def _unjson(value: Any) -> Any:
    if isinstance(value, Mapping):
        if set(value) == {"code", "params"}:
            return Problem.from_json(value)
        return {k: _unjson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unjson(v) for v in value]
    return value


class DomainError(Exception):
    """A rule of the program was broken: ``problem`` says which, for a template to word."""

    def __init__(self, code: str, /, **params: Any) -> None:
        self.problem = Problem(code, **params)
        super().__init__(str(self.problem))

    @property
    def code(self) -> str:
        return self.problem.code


class IllegalTransition(DomainError):
    def __init__(self, what: str, current: str, target: str) -> None:
        super().__init__("illegal_transition", what=what, current=current, target=target)
        self.current = current
        self.target = target


class NotAllowed(DomainError):
    """The actor lacks the role this action needs, or the thing is not theirs."""


class NotFound(DomainError):
    pass


class LimitReached(DomainError):
    """An advocate's burnout limit forbids this; ``reasons`` says which and why."""

    def __init__(self, reasons: list[Problem], *, name: str | None = None) -> None:
        super().__init__("limit_reached", reasons=list(reasons), name=name)
        self.reasons = reasons


class InvalidInput(DomainError):
    """Bad input, with a ``Problem`` per field name so a form can show each on its field
    (the empty name for a problem with the form as a whole)."""

    def __init__(self, errors: Mapping[str, Problem]) -> None:
        self.errors = dict(errors)
        Exception.__init__(self, "; ".join(f"{k}: {v}" for k, v in self.errors.items()))
        self.problem = Problem("invalid", errors=self.errors)


__all__ = ["DomainError", "IllegalTransition", "InvalidInput", "LimitReached", "NotAllowed",
           "NotFound", "Problem"]
