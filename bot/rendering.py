"""Jinja2 rendering of neutral messages (template name + context) for each platform.

Templates live in ``templates/<family>/`` (``slack``, ``teams``, ``text``). Chat text is
never HTML-escaped: Slack would show ``We&#39;ve``; Slack's own ``& < >`` escaping is the
``slack_escape`` filter, and JSON templates put every string through ``tojson``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_datetime, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

from bot.domain.errors import DomainError, Problem
from bot.domain.limits import MAX_COOLDOWN_DAYS
from bot.i18n import (
    DEFAULT_LOCALE,
    catalog_language,
    chart_font,
    normalize,
    parse_locale,
    translations,
)


def templates_dir() -> Path:
    """The templates folder: inside the installed package, or at the repository root."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no templates folder beside {here}")


def slack_escape(text: object) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# How ``local_time`` shows an instant, by style: English keeps the bot's own compact
# patterns; every other locale arranges the same parts its own way (CLDR skeletons).
# ``zone``: the time zone's abbreviation (EST, JST) follows.
_EN_PATTERNS = {"full": "EEE dd MMM y, HH:mm", "day_time": "EEE dd MMM, HH:mm",
                "day_clock": "EEE dd MMM, HH:mm", "day": "EEE dd MMM", "day_date": "EEE dd MMM y",
                "date": "dd MMM y", "time": "HH:mm", "stamp": "y-MM-dd HH:mm"}
_SKELETONS = {"full": ("yMMMEd", "Hm"), "day_time": ("MMMEd", "Hm"), "day_clock": ("MMMEd", "Hm"),
              "day": ("MMMEd", None), "day_date": ("yMMMEd", None), "date": ("yMMMd", None),
              "time": (None, "Hm"), "stamp": ("yMd", "Hm")}
_ZONED = {"full", "day_time", "time", "stamp"}
# The strftime formats the templates were written with, by the style that replaced them.
_STRFTIME = {"%a %d %b %Y, %H:%M %Z": "full", "%a %d %b, %H:%M %Z": "day_time",
             "%a %d %b, %H:%M": "day_clock", "%a %d %b": "day", "%a %d %b %Y": "day_date",
             "%d %b %Y": "date", "%H:%M %Z": "time", "%Y-%m-%d %H:%M UTC": "stamp"}


def local_time(value: str | datetime, zone: str, style: str = "full",
               locale: str = DEFAULT_LOCALE) -> str:
    """Show an ISO or aware datetime in a person's own time zone and locale, in one of the
    styles above (``full``: weekday, date, year, time and zone)."""
    style = _STRFTIME.get(style, style)
    if style not in _SKELETONS:
        raise ValueError(f"unknown local_time style {style!r}")
    moment = (datetime.fromisoformat(value) if isinstance(value, str) else value)
    moment = moment.astimezone(ZoneInfo(zone))
    babel_locale = parse_locale(locale) or parse_locale(DEFAULT_LOCALE)
    if babel_locale.language == DEFAULT_LOCALE:
        text = format_datetime(moment, _EN_PATTERNS[style], locale=babel_locale)
    else:
        day, clock = _SKELETONS[style]
        parts = [format_skeleton(s, moment, locale=babel_locale) if s else None
                 for s in (day, clock)]
        text = (babel_locale.datetime_formats["medium"].format(parts[1], parts[0])
                if all(parts) else parts[0] or parts[1])
    return f"{text} {moment.tzname()}" if style in _ZONED else text


class PlainMarkup:
    """Shared text with no markup: the CLI, and form errors a surface shows as plain text."""

    def b(self, text: object) -> str:
        return str(text)

    def t(self, text: object) -> str:
        return str(text)

    def code(self, text: object) -> str:
        return f'"{text}"'

    def cmd(self, text: str) -> str:
        return f'"{text}"'


PLAIN = PlainMarkup()


class UnknownProblem(LookupError):
    """A code with no template in ``templates/text/errors/``: a bug, never shown as is."""


class Renderer:
    """Renders templates in one locale (English unless made ``for_locale``).

    ``translations`` overrides the catalog (the pseudo-locale of the catalog tests)."""

    def __init__(self, root: Path | None = None, locale: str = DEFAULT_LOCALE,
                 translations: Any = None, _family: _Family | None = None) -> None:
        self.root = root or templates_dir()
        self.locale = locale
        self._family = _family or _Family()  # the renderers of every locale, and extensions
        self._family.members.setdefault(locale, self)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.root)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=["jinja2.ext.i18n"],
        )
        # Words go through gettext (`{% trans %}`, `_()`): whitespace inside a trans block
        # is collapsed so the catalog's ids do not depend on a template's line breaks.
        self.env.policies["ext.i18n.trimmed"] = True
        self.env.install_gettext_translations(  # type: ignore[attr-defined]
            translations or _catalog(locale), newstyle=True)
        self.env.filters["slack_escape"] = slack_escape
        self.env.filters["local_time"] = partial_locale(local_time, locale)
        self.env.filters["number"] = partial_locale(_number, locale)
        self.env.filters["percent"] = partial_locale(_percent, locale)
        self.env.filters["money"] = partial_locale(_money, locale)
        # The limits' bound, declared once (bot/domain/limits.py).
        self.env.globals["max_cooldown_days"] = MAX_COOLDOWN_DAYS
        self.env.globals["problem_text"] = self._problem_global
        self.env.globals["required_problem"] = Problem("field_required")  # forms' inputs
        self.env.globals["locale"] = locale
        self.env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
        for extension in self._family.extensions:
            extension(self.env)

    def extend(self, extension: Callable[[jinja2.Environment], None]) -> None:
        """Add a surface's filters and globals (``extension(env)``) to this renderer and to
        every other locale's, now and later."""
        self._family.extensions.append(extension)
        for member in self._family.members.values():
            extension(member.env)

    def for_locale(self, locale: str | None) -> Renderer:
        """The same templates in a person's locale (``ja_JP``, ``ja-JP``, ``ja``…): words
        from its language's catalog, dates and numbers as that locale writes them. An
        empty or unknown locale, or one whose language has no catalog, is English (words
        and formats kept together). Made once per locale and kept."""
        wanted = normalize(locale) or DEFAULT_LOCALE
        if catalog_language(wanted) != wanted.split("_")[0]:
            wanted = DEFAULT_LOCALE
        members = self._family.members
        if wanted not in members:
            Renderer(self.root, wanted, _family=self._family)
        return members[wanted]

    def has(self, name: str) -> bool:
        try:
            self.env.get_template(name)
        except jinja2.TemplateNotFound:
            return False
        return True

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(name).render(**context)

    def render_json(self, name: str, context: dict[str, Any]) -> Any:
        return json.loads(self.render(name, context))

    def reply_lines(self, reply: Any, markup: Any) -> list[str]:
        """A conversation reply's shared words (``templates/text/replies/``), marked up
        for one surface, as its non-empty lines."""
        text = self.render(f"text/replies/{reply.template}.txt.j2", {**reply.context, "m": markup})
        return [line.strip() for line in text.splitlines() if line.strip()]

    def problem_text(self, problem: Problem | DomainError | Mapping[str, Any],
                     markup: Any = PLAIN) -> str:
        """The words for a refusal or a field error (``templates/text/errors/<code>.txt.j2``)
        or a reason (``text/reasons/``), rendered with its parameters (a problem
        as stored in a message context is read back first), as one line marked up through
        ``markup``. Raises ``UnknownProblem`` for a code without a template."""
        if isinstance(problem, DomainError):
            problem = problem.problem
        elif not isinstance(problem, Problem):  # as stored in a message context (to_json)
            problem = Problem.from_json(problem)
        try:
            template = self.env.select_template([f"text/{folder}/{problem.code}.txt.j2"
                                                 for folder in ("errors", "reasons")])
        except jinja2.TemplateNotFound:
            raise UnknownProblem(f"no template for the error code {problem.code!r}") from None
        return " ".join(template.render(**problem.params, m=markup).split())

    @jinja2.pass_context
    def _problem_global(self, context: jinja2.runtime.Context,
                        problem: Problem | DomainError | Mapping[str, Any]) -> str:
        """``problem_text`` in a template, marked up like the reply that shows it."""
        if isinstance(problem, str):  # a reason worded before reasons were codes, in a
            return problem  # message queued (or dead-lettered) then
        markup = context.get("m")  # Slack's templates import their macros as ``m``
        return self.problem_text(problem, markup if hasattr(markup, "t") else PLAIN)

    def chart_png(self, context: Mapping[str, Any]) -> bytes | None:
        """The chart a message carries, as PNG: drawn from its ``trend`` (``{"week",
        "opened", "fulfilled"}`` rows) when ``chart`` is set, with the words of
        ``text/files/chart.j2``; None for a message without one."""
        if not context.get("chart"):
            return None
        from bot.chart import ChartWords, trend_chart  # Pillow: only where a chart is drawn

        words: Any = self.env.get_template("text/files/chart.j2").module
        series = [(str(w["week"]), int(w["opened"]), int(w["fulfilled"]))
                  for w in context.get("trend") or ()]
        return trend_chart(series, ChartWords(
            title=str(words.title(len(series))), requests=str(words.requests()),
            fulfilled=str(words.fulfilled()), axis=str(words.axis())),
            font_file=chart_font(self.locale))

    def report_files(self, context: Mapping[str, Any]) -> list[Any]:
        """The program report's charts (PNG) and files (CSV, XLSX) a message carries, as
        ``bot.report_files.ReportFile``; none for any other message."""
        if not context.get("report"):
            return []
        from bot.report_files import chat_files  # matplotlib, openpyxl: only for a report

        return chat_files(self, context)

    def invite_ics(self, context: Mapping[str, Any]) -> str | None:
        """The ``.ics`` a message carries (its ``invite``, from
        ``bot.services.bookings.invite_for``), worded by ``text/files/invite.j2``; None for
        a message without one."""
        invite = context.get("invite")
        if not invite:
            return None
        from bot.calendar import CalendarPerson, build_invite

        words: Any = self.env.get_template("text/files/invite.j2").module
        advocate, rep = invite["advocate"], invite["rep"]
        return build_invite(
            engagement_id=int(invite["engagement_id"]),
            start=datetime.fromisoformat(invite["start"]),
            end=datetime.fromisoformat(invite["end"]),
            summary=str(words.summary(invite)),
            description=str(words.description(invite)).strip(),
            meeting_link=invite["meeting_link"],
            organizer=CalendarPerson(rep["name"], rep["email"] or None),
            attendees=[CalendarPerson(advocate["name"], advocate["email"]),
                       CalendarPerson(rep["name"], rep["email"] or None)],
            sequence=int(invite["sequence"]),
            now=datetime.fromisoformat(invite["now"]),
            cancelled=bool(invite["cancelled"]),
        )

    def text(self, template: str, context: dict[str, Any]) -> str:
        """The plain-text version of a neutral message (notifications, fallbacks, CLI)."""
        return self.render(f"text/{template}.txt.j2", context).strip()


@dataclass
class _Family:
    members: dict[str, Renderer] = field(default_factory=dict)
    extensions: list[Callable[[jinja2.Environment], None]] = field(default_factory=list)


def _catalog(locale: str) -> Any:
    return translations(catalog_language(locale))


def partial_locale(function: Any, locale: str) -> Any:
    """A formatting filter bound to one renderer's locale."""
    def bound(*args: Any, **kwargs: Any) -> Any:
        return function(*args, locale=locale, **kwargs)
    return bound


def _number(value: float, digits: int | None = None, locale: str = DEFAULT_LOCALE) -> str:
    """A number as the locale writes it (grouping); ``digits`` fixes the decimals."""
    pattern = None if digits is None else "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=locale)


def _percent(value: float, locale: str = DEFAULT_LOCALE) -> str:
    """A share (0.42) as a whole percentage in the locale's way ("42%")."""
    return format_percent(value, locale=locale)


def _money(value: float, currency: str | None = None, locale: str = DEFAULT_LOCALE) -> str:
    """An amount: with its currency's symbol where one is given, else two decimals."""
    if currency:
        return format_currency(value, currency, locale=locale)
    return format_decimal(value, format="#,##0.00", locale=locale)
