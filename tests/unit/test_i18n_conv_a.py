"""The shared words (``templates/text/replies``, ``forms``, ``files`` and the labels) pass
through the catalog, and read in Japanese.

Refusals, field errors and reasons are checked with every message in
``test_i18n_catalog.py``; the replies a conversation gives and the words of forms, charts
and invites are checked here: rendered in the pseudo-locale (every catalog word wrapped in
⟦ ⟧), nothing but data may be left outside the brackets; rendered in Japanese, no English
word may be left but data and what is typed as is (commands, date formats).
"""

# ruff: noqa: RUF001  (the Japanese sentences use full-width punctuation)
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from bot.domain.errors import Problem
from bot.rendering import PLAIN, Renderer, templates_dir
from handlers.slack.blockkit import MARKUP as SLACK
from handlers.teams.replies import MARKUP as TEAMS
from tests.i18n_check import data_strings, pseudo_renderer, stray_words

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
    "period": "2026-Q4", "from_day": "2026-10-01", "to_day": "2026-12-31",
    "errors": {"needed_by": Problem("not_a_date"), "": Problem("form_lost")},
    # the language replies (choosing one's language)
    "current": "ja", "example": "en", "language": "ja",
    "choices": [("en", "English"), ("ja", "日本語")],
    "nomination": {"id": 5, "email": "cq@acme.example", "name": "Cara Quill",
                   "state": "invited"},
    "findings": [], "nominator": True, "version": "v1",
}
NOMINATED = [{**BASE["nomination"], "state": state} for state in ("invited", "declined")]
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
    "nomination": NOMINATED, "findings": [[], [Problem("low_nps", nps=5, threshold=7)]],
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
            assert lines and not stray_words(" ".join(lines), data_strings(context)), \
                (template, lines)
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
        assert "⟦" in text and not stray_words(text, ["Gold", "Rex", "Zoe", "Acme",
                                                      "Globex", "CTO", "Xylo", "https"]), text


def test_the_shared_words_read_in_japanese() -> None:
    renderer = Renderer().for_locale("ja")
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


# Kept as they are: products, a command's parts, an hours example, a time zone's name;
# and every upper-case word (CSV, YYYY-MM-DD, the zones' abbreviations: JST, EDT).
AS_TYPED = frozenset({"OneDrive", "Slack", "clear", "https", "Mon", "Fri", "weekdays", "am", "pm",
                      "Europe", "Berlin", "cooldown", "open",
                      "Excel", "last", "quarter", "override"})


def english_left(text: str, data: Any) -> set[str]:
    """English words left in a Japanese text that are not data (as is, or lower-cased)."""
    shown = [s for d in data_strings(data) for s in (d, d.lower())]
    return {w for w in stray_words(text, shown) if w.isascii() and not w.isupper()} - AS_TYPED


def test_every_reply_reads_in_japanese_without_english_left() -> None:
    renderer = Renderer().for_locale("ja")
    for template, context in reply_cases():
        text = " ".join(renderer.reply_lines(SimpleNamespace(template=template,
                                                             context=context),
                                             CommandsHidden()))
        assert not english_left(text, context), (template, text)


def test_every_refusal_and_reason_reads_in_japanese_without_english_left() -> None:
    from tests.unit.test_error_codes import SITES

    renderer = Renderer().for_locale("ja")
    for site in SITES:
        text = renderer.problem_text(Problem(site.code, **site.params), CommandsHidden())
        assert not english_left(text, site.params), (site, text)
