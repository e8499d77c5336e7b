"""Errors the domain raises: a code and its parameters, never a sentence.

The words a person reads live in ``templates/text/errors/<code>.txt.j2``; the renderer's
``problem_text`` turns a ``Problem`` (or an error's) into them, marked up for the surface
that shows it (``bot/rendering.py``). Parameters stay values (dates, numbers, names), so a
template can format them for the reader. ``str(error)`` is the code and parameters, for logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Problem:
    """What is wrong, as a template code and its named parameters. Immutable; two problems
    with the same code and parameters are equal."""

    __slots__ = ("code", "params")
    code: str
    params: Mapping[str, Any]

    def __init__(self, code: str, /, **params: Any) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "params", dict(params))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Problem is immutable")

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Problem) and self.code == other.code
                and self.params == other.params)

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(self.params))))

    def __repr__(self) -> str:
        return f"Problem({self!s})"

    def __str__(self) -> str:
        if not self.params:
            return self.code
        return f"{self.code}(" + ", ".join(f"{k}={v!r}" for k, v in self.params.items()) + ")"


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

    def __init__(self, reasons: list[str], *, name: str | None = None) -> None:
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
