"""Errors the domain raises. Each carries a message fit to show the person who caused it."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the program was broken; ``str(error)`` is safe to show the user."""


class IllegalTransition(DomainError):
    def __init__(self, what: str, current: str, target: str) -> None:
        super().__init__(f"{what} cannot go from {current} to {target}")
        self.current = current
        self.target = target


class NotAllowed(DomainError):
    """The actor lacks the role this action needs."""


class NotFound(DomainError):
    pass


class LimitReached(DomainError):
    """An advocate's burnout limit forbids this; ``reasons`` says which and why."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class InvalidInput(DomainError):
    """Bad input, with an error per field name so a form can show each on its field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
