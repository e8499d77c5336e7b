"""The sandbox's HTML, rendered on the server from ``templates/web/``.

The words are the program's own: a message is its plain-text version
(``templates/text/<template>.txt.j2``, what Slack's fallback and Teams' cards show) with
the buttons of ``templates/web/messages/<template>.html.j2``; a reply is its shared words
(``Renderer.reply_lines``) marked up through ``HtmlMarkup``; a form is its spec
(``bot.conversation.formspec``) laid out by ``templates/web/fields.html.j2`` with the words
of ``templates/text/forms/words.j2``. Web templates autoescape; the shared text templates
do not, so ``HtmlMarkup`` marks bold and code with control characters that survive
escaping and become tags afterwards (``html_line``): nothing a person typed becomes markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

import jinja2
from markupsafe import Markup

from bot.conversation import formspec
from bot.conversation.forms import LIMIT_NAMES, limit_fields
from bot.conversation.formspec import FORMS, Sources
from bot.conversation.replies import Reply
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer

_B0, _B1, _C0, _C1 = "\x0e", "\x0f", "\x10", "\x11"
_SENTINELS = re.compile("[\x0e-\x11]")
_BOLD = re.compile("\x0e([^\x0e-\x11]*)\x0f")
_CODE = re.compile("\x10([^\x0e-\x11]*)\x11")


def _plain(text: object) -> str:
    return _SENTINELS.sub("", str(text))


class HtmlMarkup:
    """Shared reply text marked up for the page (``bot.conversation.replies.Markup``)."""

    def b(self, text: object) -> str:
        return f"{_B0}{_plain(text)}{_B1}"

    def t(self, text: object) -> str:
        return _plain(text)

    def code(self, text: object) -> str:
        return f"{_C0}{_plain(text)}{_C1}"

    def cmd(self, text: str) -> str:
        return f"{_C0}/{_plain(text)}{_C1}"


MARKUP = HtmlMarkup()


def html_line(line: str) -> Markup:
    """One marked-up line as safe HTML: everything escaped, then the marks made tags."""
    escaped = html.escape(line, quote=False)
    tagged = _CODE.sub(r"<code>\1</code>", _BOLD.sub(r"<strong>\1</strong>", escaped))
    return Markup(_SENTINELS.sub("", tagged))


def text_paragraphs(text: str) -> list[list[str]]:
    """Plain text as paragraphs of lines (a blank line starts a new paragraph)."""
    paragraphs: list[list[str]] = [[]]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        paragraphs[-1].append(line)
    return [p for p in paragraphs if p]


def web_env(renderer: Renderer) -> jinja2.Environment:
    """The renderer's environment (its filters, gettext and globals) with HTML
    autoescaping for ``*.html.j2``; a cache of its own, so no template compiled without
    escaping is handed out here."""
    env = renderer.env.overlay(
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",),
                                            default_for_string=True),
        cache_size=200)
    return env


def fields_of(form: str, values: Mapping[str, Any] | None = None, *,
              sources: Sources | None = None, limits: Any = None,
              program: Any = None) -> list[dict[str, Any]]:
    """A form's fields for ``fields.html.j2`` with their initial values; a limits form is
    pre-filled with the advocate's ``limits``, bounded by the ``program``'s."""
    current, bounds = _policy(limits), _policy(program or limits)
    if sources is None:
        sources = Sources(limits=current or LimitPolicy(), program=bounds or LimitPolicy())
    if values is None and current is not None and bounds is not None:
        values = {f.name: f.value for f in limit_fields(current, bounds)}
    return formspec.shown(FORMS[form].fields(sources), values)


def _policy(raw: Any) -> LimitPolicy | None:
    if raw is None or isinstance(raw, LimitPolicy):
        return raw
    return LimitPolicy(**{name: int(raw[name]) for name in LIMIT_NAMES})


class Pages:
    """Renders the sandbox page and its parts, in one locale (``for_locale``)."""

    def __init__(self, renderer: Renderer) -> None:
        self.renderer = renderer
        self.env = web_env(renderer)
        self._locales: dict[str, Pages] = {}

    def for_locale(self, locale: str | None) -> Pages:
        """The same pages in ``locale`` (``Renderer.for_locale``: English when the bot does
        not speak it), made once per locale."""
        renderer = self.renderer.for_locale(locale)
        if renderer is self.renderer:
            return self
        if renderer.locale not in self._locales:
            self._locales[renderer.locale] = Pages(renderer)
        return self._locales[renderer.locale]

    def reply_html(self, reply: Reply) -> list[Markup]:
        return [html_line(line) for line in self.renderer.reply_lines(reply, MARKUP)]

    def message_html(self, template: str, context: Mapping[str, Any]) -> list[list[str]]:
        return text_paragraphs(self.renderer.text(template, dict(context)))

    def has_buttons(self, template: str) -> bool:
        return self.renderer.has(f"web/messages/{template}.html.j2")

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        return self.env.get_template(f"web/{name}").render(**context)


def values_text(values: Iterable[str]) -> str:
    return ",".join(v for v in values if v)
