"""The program report's files and charts, made from its context
(``bot.services.report.report_context``) with the words of ``templates/text/report/``.

- Markdown: ``templates/text/report/report.md.j2``.
- XLSX (openpyxl): a sheet per section, numbers as numbers (percent, hours, money formats).
- CSV: the same tables in one long list: section, item, measure, value (one number a row,
  as a pivot table or a BI tool reads it; numbers unformatted).
- Charts (matplotlib, Agg, no display): requests vs fulfilled per week, influenced pipeline
  per month, engagements per advocate with the program's limit drawn across (over-use in
  red).

Made where a report is shown (the CLI, the messengers through ``Renderer.report_files``),
never in a service: a service hands over numbers only.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.domain.errors import DomainError

if TYPE_CHECKING:
    from bot.domain.model import Actor
    from bot.rendering import Renderer
    from bot.services.context import ServiceContext

GROUPS = ("advocate", "rep", "industry", "region")
FILE_PREFIX = "program-report-"  # every report file's name starts so (Teams' declines)
METRIC_SECTIONS = ("summary", "by_type", "health", "nominations")
CHARTS = ("weekly", "monthly", "per_advocate")
DPI = 80  # 640 px wide
NUMBER_FORMATS = {"money": "#,##0.00", "percent": "0%", "hours": "0.0", "days": "0.0"}


@dataclass(frozen=True, slots=True)
class Table:
    key: str  # the section (words.j2's ``section`` and ``sheet``)
    headings: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    kinds: tuple[str, ...]  # per column: text, count, percent, hours, days, money
    row_kinds: tuple[str, ...] = ()  # a table of measures: each row's kind, for its numbers


@dataclass(frozen=True, slots=True)
class ReportFile:
    filename: str
    content: bytes
    media_type: str
    title: str


def words(renderer: Renderer) -> Any:
    return renderer.env.get_template("text/report/words.j2").module


def markdown(renderer: Renderer, context: Mapping[str, Any]) -> str:
    return renderer.render("text/report/report.md.j2", dict(context)).strip() + "\n"


def tables(renderer: Renderer, context: Mapping[str, Any]) -> list[Table]:
    """Every section of the report as a table with its headings, in the report's order."""
    w, currency = words(renderer), context["currency"]
    found = []
    for key in METRIC_SECTIONS:
        metrics = context[key]
        found.append(Table(
            key, tuple(str(w.column(c)) for c in ("measure", "value", "previous", "change")),
            tuple((str(w.metric(m["key"])) + (f" ({currency})" if m["kind"] == "money" else ""),
                   m["value"], m["previous"], m["change"]) for m in metrics),
            ("text", "count", "count", "count"), tuple(m["kind"] for m in metrics)))
    for by in GROUPS:
        found.append(Table(
            by, (str(w.column(by)), str(w.column("asks" if by == "advocate" else "requests")),
                 str(w.column("engagements")), f"{w.column('influenced')} ({currency})",
                 f"{w.column('won')} ({currency})"),
            tuple((g["name"] or str(w.blank()), g["requests"], g["engagements"],
                   g["influenced"], g["won"]) for g in context["groups"][by]),
            ("text", "count", "count", "money", "money")))
    found.append(Table("weekly", tuple(str(w.column(c)) for c in ("week", "opened", "fulfilled")),
                       tuple((x["week"], x["opened"], x["fulfilled"]) for x in context["weekly"]),
                       ("text", "count", "count")))
    found.append(Table("monthly", (str(w.column("month")),
                                   f"{w.column('influenced')} ({currency})"),
                       tuple((x["month"], x["influenced"]) for x in context["monthly"]),
                       ("text", "money")))
    return found


def csv_text(renderer: Renderer, context: Mapping[str, Any]) -> str:
    """One row per number: section, item, measure, value."""
    w = words(renderer)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([str(w.column(c)) for c in ("section", "item", "measure", "number")])
    for table in tables(renderer, context):
        section = str(w.section(table.key))
        for row in table.rows:
            for heading, value in zip(table.headings[1:], row[1:], strict=True):
                writer.writerow([section, row[0], heading, "" if value is None else value])
    return out.getvalue()


def xlsx_bytes(renderer: Renderer, context: Mapping[str, Any]) -> bytes:
    """A workbook with a sheet per section, headings bold, numbers formatted (written
    row by row: a year's per-advocate sheet has thousands of rows)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    w, bold = words(renderer), Font(bold=True)
    book = Workbook(write_only=True)
    for table in tables(renderer, context):
        sheet = book.create_sheet(str(w.sheet(table.key))[:31])
        sheet.column_dimensions["A"].width = max(
            [12, *(len(str(r[0])) + 2 for r in table.rows), len(table.headings[0]) + 2])

        def cell(value: Any, kind: str, *, sheet: Any = sheet) -> Any:
            made = WriteOnlyCell(sheet, value=value)
            if kind == "heading":
                made.font = bold
            elif kind in NUMBER_FORMATS:
                made.number_format = NUMBER_FORMATS[kind]
            return made

        sheet.append([cell(heading, "heading") for heading in table.headings])
        for index, row in enumerate(table.rows):
            kinds = [table.kinds[0], *([table.row_kinds[index]] * (len(row) - 1))] if (
                table.row_kinds) else table.kinds
            sheet.append([cell(value, kind) for value, kind in zip(row, kinds, strict=True)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _figure(title: str, left: float = 0.09, height: float = 3.6) -> Any:
    from matplotlib.figure import Figure  # no pyplot: no global state, no display

    figure = Figure(figsize=(8, height), dpi=DPI)
    figure.subplots_adjust(left=left, right=0.97, top=1 - 0.5 / height, bottom=0.7 / height)
    axes = figure.add_subplot()
    axes.set_title(title, loc="left", fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _png(figure: Any) -> bytes:
    """The figure as a 64-colour PNG: a third of the size of matplotlib's own, so a chart
    travels inline in a Teams activity."""
    from PIL import Image

    drawn = io.BytesIO()
    figure.savefig(drawn, format="png", metadata={"Software": None})
    out = io.BytesIO()
    Image.open(drawn).convert("RGB").quantize(colors=64).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _bars(axes: Any, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]]
          ) -> None:
    width, every = 0.8 / len(series), 1 + len(labels) // 27  # a year: every second week
    labels = [label if i % every == 0 else "" for i, label in enumerate(labels)]
    for index, (name, values, colour) in enumerate(series):
        axes.bar([i + index * width for i in range(len(labels))], values, width,
                 label=name, color=colour)
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))],
                    labels, rotation=60 if len(labels) > 8 else 0, fontsize=8)


def charts(renderer: Renderer, context: Mapping[str, Any]) -> dict[str, bytes]:
    """The three charts as PNG, by name (``CHARTS``), in the font the renderer's locale
    needs (``bot.i18n.chart_font``: IPAexGothic for Japanese)."""
    from matplotlib import font_manager, rc_context

    from bot.i18n import chart_font

    font = chart_font(renderer.locale)
    rc: dict[str, Any] = {}
    if font is not None:
        font_manager.fontManager.addfont(str(font))
        rc["font.family"] = [font_manager.FontProperties(fname=str(font)).get_name()]
    with rc_context(rc):  # text takes its font when it is made
        return _draw(words(renderer), context)


def _draw(w: Any, context: Mapping[str, Any]) -> dict[str, bytes]:
    made = {}
    figure, axes = _figure(str(w.chart_title("weekly")))
    weekly = context["weekly"]
    _bars(axes, [x["week"].split("-")[-1] for x in weekly],
          [(str(w.column("opened")), [x["opened"] for x in weekly], "#7890c4"),
           (str(w.column("fulfilled")), [x["fulfilled"] for x in weekly], "#2ea05a")])
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend(frameon=False, fontsize=8, ncols=2, loc="lower right", bbox_to_anchor=(1, 1))
    made["weekly"] = _png(figure)

    figure, axes = _figure(f"{w.chart_title('monthly')} ({context['currency']})")
    monthly = context["monthly"]
    _bars(axes, [x["month"] for x in monthly],
          [(str(w.column("influenced")), [x["influenced"] for x in monthly], "#2ea05a")])
    axes.yaxis.set_major_formatter("{x:,.0f}")
    made["monthly"] = _png(figure)

    figure, axes = _figure(str(w.chart_title("per_advocate")), left=0.2, height=4.8)
    people, limit = context["per_advocate"], context["advocate_limit"]
    counts = [p["engagements"] for p in people]
    colours = ["#c0392b" if limit is not None and n > limit else "#7890c4" for n in counts]
    axes.barh([p["name"] for p in people][::-1], counts[::-1], color=colours[::-1])
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="y", labelsize=8)
    if limit is not None:
        axes.axvline(limit, color="#c0392b", linestyle="--", linewidth=1,
                     label=str(w.chart_limit(limit)))
        axes.legend(frameon=False, fontsize=8, loc="lower right", bbox_to_anchor=(1, 1))
    made["per_advocate"] = _png(figure)
    return made


async def file_again(ctx: ServiceContext, actor: Actor, renderer: Renderer,
                     accepted: Mapping[str, Any]) -> bytes:
    """A report file a Teams user accepted (``accepted``: its file consent card's
    ``acceptContext``), made again now: the card carries the period, never the numbers.
    Raises ``DomainError`` for anyone but a program manager or a period that is not one."""
    from bot.services.report import checked_days, report_context, report_for

    try:
        first = date.fromisoformat(str(accepted.get("from_day")))
        last = date.fromisoformat(str(accepted.get("to_day")))
    except ValueError:
        raise DomainError("report_period", typed=str(accepted.get("period", ""))[:40]) from None
    context = report_context(await report_for(ctx, actor, checked_days(first, last)))
    if accepted.get("report") == "xlsx":  # a year's workbook is half a second of work
        return await asyncio.to_thread(xlsx_bytes, renderer, context)
    return csv_text(renderer, context).encode()


def chat_files(renderer: Renderer, context: Mapping[str, Any]) -> list[ReportFile]:
    """What a chat message of the report carries: the charts, then the CSV and the XLSX."""
    w, stem = words(renderer), str(context["file_stem"])
    files = [ReportFile(f"{stem}-{name}.png", png, "image/png", str(w.file_title(name)))
             for name, png in charts(renderer, context).items()]
    files.append(ReportFile(f"{stem}.csv", csv_text(renderer, context).encode(), "text/csv",
                            str(w.file_title("csv"))))
    files.append(ReportFile(
        f"{stem}.xlsx", xlsx_bytes(renderer, context),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        str(w.file_title("xlsx"))))
    return files


__all__ = [
    "CHARTS",
    "ReportFile",
    "Table",
    "charts",
    "chat_files",
    "csv_text",
    "file_again",
    "markdown",
    "tables",
    "xlsx_bytes",
]
