"""A request walked from ``/reference`` to a booked call in a real browser, each person
played in turn, asserted by what each one sees (text and roles), with no console error
and every input labelled. Writes ``docs/sandbox.png``, the README's screenshot."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
REP = "sam.rivera@lumora.example"
MANAGER = "pat.morgan@lumora.example"
def expect(locator: Any) -> Any:
    """Playwright's retrying assertion (imported here: without playwright the browser
    fixture has already skipped, or failed on CI, before any test runs)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


UNLABELLED = re.compile(
    r"^\s*- (textbox|combobox|listbox|spinbutton|radio|checkbox|searchbox)\s*(\[.*\])?:?\s*$",
    re.MULTILINE)
TIME_BUTTON = re.compile(r"^\w{3} \d{2} \w{3}, \d{2}:\d{2}$")


def next_wednesday(after: date) -> date:
    return after + timedelta(days=(2 - after.weekday()) % 7 or 7)


class Visit:
    """One browser page on the sandbox, collecting what the console says is wrong."""

    def __init__(self, browser: Any, url: str, **options: Any) -> None:
        self.context = browser.new_context(accept_downloads=True, **options)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(url)

    def play(self, email: str | None = None, *, named: str | None = None) -> None:
        """Choose who you are in the "Play as" menu (by email, or an advocate's name)."""
        menu = self.page.get_by_label("Play as")
        if named is not None:
            option = menu.get_by_role("option", name=re.compile(re.escape(named)))
            email = option.get_attribute("value")
        menu.select_option(email)
        self.page.get_by_role("button", name="Switch").click()
        expect(self.page.get_by_role("heading", name=re.compile(f"You are .*{email}"))
               ).to_be_visible()

    def unlabelled_inputs(self) -> list[str]:
        return UNLABELLED.findall(self.page.locator("body").aria_snapshot())


def file_request(page: Any, today: date) -> None:
    page.get_by_role("button", name="New reference request").click()
    form = page.get_by_role("form", name="New reference request")
    form.get_by_label("Prospect company").fill("Acme Bank")
    form.get_by_label("Kind of reference").select_option(label="Reference call")
    form.get_by_label("Needed by", exact=True).fill((today + timedelta(days=20)).isoformat())
    first = form.get_by_role("group", name="Proposed time 1")
    first.get_by_label("Day").fill(next_wednesday(today + timedelta(days=2)).isoformat())
    first.get_by_label(re.compile("^Time")).fill("09:00")
    form.get_by_label("Prospect industry").select_option(label="Fintech")
    form.get_by_label("Region").select_option(label="EMEA")
    form.get_by_role("button", name="Show me the matches").click()


def test_a_request_walked_to_a_booked_call(sandbox: Any, browser: Any) -> None:
    visit = Visit(browser, sandbox.url, viewport={"width": 1280, "height": 900})
    page = visit.page
    expect(page.get_by_text("There is no sign-in")).to_be_visible()
    today = sandbox.today

    visit.play(REP)
    # A form sent incomplete comes back with the error on its field, what was typed kept.
    page.get_by_role("button", name="New reference request").click()
    form = page.get_by_role("form", name="New reference request")
    form.get_by_label("Prospect company").fill("Acme Bank")
    form.get_by_role("button", name="Show me the matches").click()
    expect(form.get_by_label("Needed by", exact=True)).to_have_attribute("aria-invalid",
                                                                          "true")
    expect(form.get_by_text("Please fill this in.").first).to_be_visible()
    expect(form.get_by_label("Prospect company")).to_have_value("Acme Bank")
    assert visit.unlabelled_inputs() == []
    page.get_by_role("button", name="Close the form").click()

    file_request(page, today)
    expect(page.get_by_text(re.compile(r"Request #\d+ for Acme Bank")).first).to_be_visible()
    ask = page.get_by_role("button", name=re.compile(r"^Ask (?!the best)")).first
    advocate = (ask.text_content() or "").strip().removeprefix("Ask ")
    ask.click()
    expect(page.get_by_text("Asked.").first).to_be_visible()

    visit.play(named=advocate)
    page.get_by_role("button", name="Accept").first.click()
    expect(page.get_by_text("You said yes.").first).to_be_visible()
    page.get_by_role("button", name=TIME_BUTTON).first.click()
    expect(page.get_by_text(re.compile("^Booked: ")).first).to_be_visible()

    visit.play(REP)
    confirmation = page.get_by_role("article").filter(has_text="Booked: your reference call")
    expect(confirmation.first).to_be_visible()
    assert advocate in (confirmation.first.text_content() or "")
    with page.expect_download() as download_info:
        confirmation.first.get_by_role("link", name=re.compile(r"calendar invite")).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".ics")
    invite = Path(download.path()).read_text(encoding="utf-8")
    assert "BEGIN:VCALENDAR" in invite and "Acme Bank" in invite
    page.set_viewport_size({"width": 1280, "height": 1150})
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(ROOT / "docs" / "sandbox.png"))

    visit.play(MANAGER)
    page.get_by_role("button", name="Send me the digest now").click()
    digest = page.get_by_role("article").filter(has_text="Reference program: week")
    expect(digest.first).to_be_visible()
    chart = digest.first.get_by_role("img", name=re.compile("Bar chart of reference requests"))
    assert chart.evaluate("image => image.decode().then(() => image.naturalWidth)") > 0
    assert visit.unlabelled_inputs() == []
    assert visit.errors == []
    visit.context.close()


@pytest.mark.parametrize("width", [390])
def test_the_page_fits_a_phone(sandbox: Any, browser: Any, width: int) -> None:
    visit = Visit(browser, sandbox.url, viewport={"width": width, "height": 844},
                  is_mobile=True)
    visit.play(REP)
    visit.page.get_by_role("button", name="New reference request").click()
    expect(visit.page.get_by_role("form", name="New reference request")).to_be_visible()
    overflow = visit.page.evaluate(
        "() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    # Keyboard: on a fresh load the first Tab reaches the skip link.
    visit.page.goto(sandbox.url)
    visit.page.keyboard.press("Tab")
    assert visit.page.evaluate("() => document.activeElement.textContent") == \
        "Skip to the page"
    assert visit.errors == []
    visit.context.close()
