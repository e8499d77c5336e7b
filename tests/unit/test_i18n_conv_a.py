"""The shared words (``templates/text/errors``, ``reasons``, ``replies``, ``forms``,
``files``) all pass through the catalog, and the Japanese catalog words them.

Each template is rendered under a pseudo-locale that wraps every message in ⟦ ⟧; what is
left once the wrapped parts are taken out may only be what the context carried (names,
companies, what people typed) and punctuation, never an English word of the template's own.
"""

# ruff: noqa: RUF001  (the Japanese sentences use full-width punctuation)
from __future__ import annotations

import gettext
import io
import itertools
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from babel.messages.pofile import read_po

from bot.domain.errors import Problem
from bot.rendering import PLAIN, Renderer, local_time, templates_dir
from handlers.slack.blockkit import MARKUP as SLACK
from handlers.teams.replies import MARKUP as TEAMS
from tests.unit.test_error_codes import SITES

WRAPPED = re.compile(r"⟦[^⟦⟧]*⟧")
WORD = re.compile(r"[A-Za-z]{2,}")
CATALOG = templates_dir() / "locales" / "ja" / "LC_MESSAGES" / "conv-a.po"
FOLDERS = ("errors", "reasons", "replies", "forms", "files")


def pseudo_renderer() -> Renderer:
    renderer = Renderer()
    renderer.env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: f"⟦{s}⟧",
        ngettext=lambda s, p, n: f"⟦{s if n == 1 else p}⟧",
        newstyle=True)
    return renderer


def words_of(value: Any) -> set[str]:
    """Every word a context value could show (the data a template may print as is)."""
    if isinstance(value, dict):
        return {w for k, v in value.items() for w in words_of(k) | words_of(v)}
    if isinstance(value, list | tuple | set):
        return {w for v in value for w in words_of(v)}
    if isinstance(value, Problem):
        return words_of(value.params)
    return set(WORD.findall(str(value)))


def untranslated(text: str, context: Any) -> set[str]:
    while WRAPPED.search(text):
        text = WRAPPED.sub(" ", text)
    return set(WORD.findall(text)) - words_of(context) - {"amp", "lt", "gt"}


@pytest.mark.parametrize("site", SITES, ids=lambda s: f"{s.code}@{s.where}")
def test_every_error_and_reason_passes_through_the_catalog(site: Any) -> None:
    renderer = pseudo_renderer()
    for markup in (PLAIN, SLACK, TEAMS):
        text = renderer.problem_text(Problem(site.code, **site.params), markup)
        assert not untranslated(text, site.params), text


# Sample view models of the replies, with every branch a variation takes.
BASE: dict[str, Any] = {
    "name": "Zoe Quill", "updated": True, "used_90": 1, "used_365": 2, "open_asks": 0,
    "limits": {"max_per_90_days": 2, "max_per_365_days": 5, "cooldown_days": 14,
               "max_open_asks": 1},
    "until": "2026-04-01", "comment": "Smooth call", "unknown": "frobnicate", "rep": True,
    "manager": True, "withdrawn": 2, "id": 7, "prospect_company": "Globex", "matches": 3,
    "requests": [{"id": 3, "reference_type_label": "Xylo", "prospect_company": "Initech",
                  "state": "awaiting_approval", "needed_by": "2026-04-01"}],
    "advocates": [{"name": "Zoe Quill", "email": "zq@x.example", "company": "Acme",
                   "industry": "", "region": "EMEA", "status": "paused"}],
    "include_closed": False, "more": 2, "query": "zz", "rows": 4,
    "at": "2026-03-10T14:00:00+00:00", "timezone": "Asia/Tokyo",
    "problem": Problem("times_in_past"), "form": "intake",
    "errors": {"needed_by": Problem("not_a_date"), "": Problem("form_lost")},
}
VARIATIONS: dict[str, list[Any]] = {
    "updated": [True, False], "until": ["2026-04-01", None],
    "state": ["pending", "accepted", "denied", "withdrawn", "expired", "x", "declined",
              "snoozed", "completed", "no_show", "proposed", "scheduled", "cancelled"],
    "awaiting_approval": [True, False],
    "choice": ["keep_active", "change_limits", "pause", "leave", "x"],
    "kind": ["roster", "invite"], "topic": ["all", "reference", "advocate", "advocates"],
    "kept": [0, 2], "choose": ["best", "pick"], "requests": [[], BASE["requests"]],
    "include_closed": [True, False], "advocates": [[], BASE["advocates"]],
    "at": [None, BASE["at"]], "awaiting_pick": [True, False],
}


def reply_cases() -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted((templates_dir() / "text" / "replies").glob("*.txt.j2")):
        source = path.read_text(encoding="utf-8")
        keys = [k for k in VARIATIONS if re.search(rf"\b{k}\b", source)]
        for combo in itertools.product(*(VARIATIONS[k] for k in keys)):
            yield path.name.removesuffix(".txt.j2"), {**BASE, **dict(zip(keys, combo, strict=True))}


def test_every_reply_passes_through_the_catalog() -> None:
    renderer, seen = pseudo_renderer(), 0
    for template, context in reply_cases():
        for markup in (PLAIN, SLACK, TEAMS):
            lines = renderer.reply_lines(SimpleNamespace(template=template, context=context),
                                         markup)
            assert lines and not untranslated(" ".join(lines), context), (template, lines)
            seen += 1
    assert seen > 300


def test_labels_form_words_and_file_words_pass_through_the_catalog() -> None:
    env = pseudo_renderer().env
    labels = env.get_template("text/replies/labels.j2").module
    metric = {"key": "idle", "kind": "percent", "value": 0.5, "change": -0.25}
    shown = [labels.state("asking"), labels.limit("cooldown_days", start=True),
             labels.availability({"state": "on_leave", "until": "2026-04-01"}),
             labels.usages([{"used": 1, "limit": 3, "span": s}
                            for s in ("90_days", "365_days", "open_asks")], " · "),
             labels.next_tier({"points": 40, "tier": "Gold"}), labels.engagement_state("no_show"),
             labels.glance_stat("undelivered", 7), labels.metric_label(metric, 48, 30),
             labels.metric_value({**metric, "value": None}), labels.metric_change(metric),
             labels.attention({"kind": "waiting", "request_id": 3, "prospect_company": "G",
                               "rep": "Rex", "needed_by": "2026-04-01"}),
             labels.attention({"kind": "dead", "count": 2, "days": 7}),
             labels.outside_hours(2), labels.suggestions_intro(), labels.call_hours("")]
    words = env.get_template("text/forms/words.j2").module
    shown += [words.label("intake", "needed_by"), words.hint("pause", "until"),
              words.placeholder("intake", "notes"),
              words.choice("outcome", "outcome", {"value": "no_show", "title": "Gold"})]
    chart = env.get_template("text/files/chart.j2").module
    shown += [chart.title(8), chart.requests(), chart.fulfilled(), chart.axis()]
    invite = env.get_template("text/files/invite.j2").module
    i = {"role": "rep", "prospect": "Globex", "request_id": 5, "meeting_link": "https://m",
         "advocate": {"name": "Zoe", "company": "Acme", "title": "CTO"}, "rep": {"name": "Rex"},
         "reference_type_label": "Xylo"}
    shown += [invite.summary(i), invite.description(i)]
    for text in map(str, shown):
        assert "⟦" in text and not untranslated(text, ["Gold", "Rex", "Zoe", "Acme",
                                                      "Globex", "CTO", "Xylo", "https"]), text


def catalog_ids() -> set[str]:
    """The message ids of the shared words' templates, as Babel's extractor finds them."""
    from babel.messages.extract import extract_from_dir

    root = templates_dir()
    found = set()
    for folder in FOLDERS:
        for _file, _line, message, _comments, _context in extract_from_dir(
                str(root / "text" / folder), method_map=[("**.j2", "jinja2")],
                options_map={"**.j2": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}):
            found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_japanese_catalog_words_every_id_keeping_its_placeholders() -> None:
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    assert catalog.locale is not None and str(catalog.locale) == "ja"
    assert catalog.plural_forms.startswith("nplurals=1")
    ids = catalog_ids()
    assert len(ids) > 250
    assert ids <= {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    placeholder = re.compile(r"%\((\w+)\)s")
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        originals = message.id if isinstance(message.id, tuple) else (message.id,)
        wanted = set().union(*(placeholder.findall(o) for o in originals)) - {"count"}
        for string in strings:
            assert string, message.id
            assert wanted <= set(placeholder.findall(string)) <= wanted | {"count"}, message.id


def japanese_renderer() -> Renderer:
    """The shared words under the Japanese catalog alone (compiled in memory)."""
    from babel.messages.mofile import write_mo

    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    renderer = Renderer()
    renderer.env.install_gettext_translations(  # type: ignore[attr-defined]
        gettext.GNUTranslations(compiled), newstyle=True)
    return renderer


def test_the_shared_words_read_in_japanese() -> None:
    renderer = japanese_renderer()
    assert renderer.problem_text(Problem("request_asks_full", request_id=7, open_count=2)) \
        .startswith("依頼 #7 にはすでに未回答のお願いが 2 件あります。")
    assert renderer.problem_text(Problem("caution", caution=Problem("renews_soon", days=3))) \
        == "注意：3日後に更新"
    assert renderer.problem_text(Problem("only_role", roles=["rep", "program_manager"],
                                         action="request_reference")) == (
        "申し訳ありませんが、リファレンスを依頼できるのは営業担当者またはプログラムマネージャー"
        "のみです。")
    assert renderer.problem_text(Problem("limit_at_most", field="cooldown_days", most=60,
                                         program=True)) \
        == "リファレンス間の休止期間は最大 60 日です（プログラムの上限）。"
    lines = renderer.reply_lines(SimpleNamespace(template="ask_answered",
                                                 context={"state": "accepted"}), SLACK)
    assert lines == ["お引き受けいただき、ありがとうございます。",
                     "続いて、次のメッセージで通話の日時をお選びください。"]
    words = renderer.env.get_template("text/forms/words.j2").module
    assert str(words.label("intake", "needed_by")) == "期限"


class CommandsHidden:
    """Plain markup, but commands (typed as is, in English) show as a mark."""

    def b(self, text: object) -> str:
        return str(text)

    t = b

    def code(self, text: object) -> str:
        return "⟨⟩"

    cmd = code


def test_every_reply_reads_in_japanese_without_english_left() -> None:
    renderer = japanese_renderer()
    for template, context in reply_cases():
        text = " ".join(renderer.reply_lines(SimpleNamespace(template=template,
                                                             context=context),
                                             CommandsHidden()))
        # Kept as they are: a product, a file type, a command's parts, a date's form.
        # The date is the local_time filter's (Babel's, once the renderer has a locale).
        left = set(WORD.findall(text)) - words_of(context) - {"OneDrive", "CSV", "WHO", "clear",
                                                              "YYYY", "MM", "DD"} \
            - words_of(local_time(BASE["at"], BASE["timezone"]))
        assert not left, (template, text)
