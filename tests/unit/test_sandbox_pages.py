"""The sandbox's HTML: shared reply text marked up without letting what people typed
become markup, every web template compiling, and the page in Japanese from its catalog."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.conversation.replies import Reply
from bot.domain.policy import LimitPolicy
from bot.rendering import Renderer, templates_dir
from handlers.sandbox.pages import MARKUP, Pages, fields_of, html_line, text_paragraphs


def test_bold_and_code_become_tags_and_everything_else_is_escaped() -> None:
    typed = MARKUP.t("<script>x</script>\x0e")
    line = f"{MARKUP.b('<b>Ada</b> & co')} typed {typed} {MARKUP.cmd('reference list')}"
    assert str(html_line(line)) == (
        "<strong>&lt;b&gt;Ada&lt;/b&gt; &amp; co</strong> typed "
        "&lt;script&gt;x&lt;/script&gt; <code>/reference list</code>")
    # A stray mark in someone's text opens no tag.
    assert str(html_line("\x0eunclosed <i>")) == "unclosed &lt;i&gt;"


def test_a_reply_is_its_shared_words() -> None:
    pages = Pages(Renderer())
    lines = pages.reply_html(Reply("request_cancelled", {"id": 7,
                                                         "prospect_company": "<Acme>"}))
    assert lines and all("<Acme>" not in str(line) for line in lines)
    assert any("&lt;Acme&gt;" in str(line) for line in lines)


def test_plain_text_keeps_its_paragraphs() -> None:
    assert text_paragraphs("a\n  b\n\n\nc\n") == [["a", "b"], ["c"]]


@pytest.mark.parametrize("name", sorted(
    str(p.relative_to(templates_dir())) for p in (templates_dir() / "web").rglob("*.html.j2")))
def test_every_web_template_compiles(name: str) -> None:
    Pages(Renderer()).env.get_template(name)


def page(pages: Pages) -> str:
    return pages.render("page.html.j2", {
        "csrf": "t", "email": None, "now": datetime(2026, 3, 2, 9, tzinfo=UTC),
        "jumps": (1, 24, 168), "program_timezone": "UTC", "fields_of": fields_of,
        "program_limits": LimitPolicy(),
        "people": {"reps": [{"email": "sam@x.example", "name": "", "company": ""}],
                   "managers": [], "owners": [],
                   "advocates": [{"email": "a@y.example", "name": "Ada", "company": "Y"}]}})


def test_the_page_in_a_persons_locale() -> None:
    english = Pages(Renderer())
    shown = page(english.for_locale("ja_JP"))
    assert '<html lang="ja">' in shown
    assert "どなたとして操作しますか" in shown and "サインインはありません" in shown
    assert "Ada\uff08Y\uff09" in shown and "24時間" not in shown and "1日" in shown
    assert english.for_locale("ja_JP") is english.for_locale("ja-JP")
    assert english.for_locale("xx") is english and english.for_locale(None) is english
    shown = page(english)
    assert "Who are you?" in shown and "There is no sign-in" in shown
