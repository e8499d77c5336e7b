"""The roster as CSV: CRM contact exports in, the canonical roster CSV out.

Program managers keep their advocates in Salesforce or HubSpot, so the importer reads those
exports as they come. Pure (no storage), in layers that can each be tested alone:

* ``reading``: a file streamed → physical-line-numbered rows (``open_roster``);
* ``columns``: headers → roster fields (``map_columns``);
* ``cells``: one cell → one field value, with a reason when it cannot be used;
* ``rows``: rows + the current roster → the advocates to create and update, or the
  problems per line, a chunk at a time (``RosterCheck``; ``plan_import`` in memory);
* ``writing``: advocates → the canonical CSV (``render_roster_csv``).

The use cases that read and write the roster are in ``bot.services.roster``;
``docs/roster.md`` documents the mapping and the rules for users.
"""

from bot.roster_csv.cells import (
    join_multi,
    parse_company_size,
    parse_date,
    parse_email,
    parse_languages,
    parse_reference_types,
    parse_timezone,
    region_for_country,
    split_multi,
)
from bot.roster_csv.columns import CANONICAL_HEADERS, COLUMNS, ColumnMap, map_columns
from bot.roster_csv.reading import (
    CsvTable,
    RosterFileError,
    SalesforceFooter,
    decode_csv_bytes,
    open_roster,
    open_table,
    parse_csv,
)
from bot.roster_csv.rows import (
    CRM_IMPORT,
    NO_CONSENT,
    PROGRESS_EVERY,
    ImportPlan,
    ProgressCallback,
    RosterCheck,
    RowProblem,
    plan_import,
)
from bot.roster_csv.writing import advocate_to_row, describe, render_roster_csv

__all__ = [
    "CANONICAL_HEADERS", "COLUMNS", "CRM_IMPORT", "NO_CONSENT", "PROGRESS_EVERY",
    "ColumnMap", "CsvTable", "ImportPlan", "ProgressCallback", "RosterCheck",
    "RosterFileError", "RowProblem", "SalesforceFooter", "advocate_to_row",
    "decode_csv_bytes", "describe", "join_multi", "map_columns", "open_roster", "open_table",
    "parse_company_size", "parse_csv", "parse_date", "parse_email", "parse_languages",
    "parse_reference_types", "parse_timezone", "plan_import", "region_for_country",
    "render_roster_csv", "split_multi",
]
