"""Roster import/export: parsing, mapping and validation (pure), and the use cases on the
in-memory fakes. The CLI and SQLite are covered in tests/integration/test_roster_cli.py."""

from __future__ import annotations

import string
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import roster_csv
from bot.domain.errors import NotFound
from bot.domain.model import (
    Advocate,
    AdvocateStatus,
    CompanySize,
    LimitOverrides,
    ReferenceType,
)
from bot.roster_csv import (
    CANONICAL_HEADERS,
    NO_CONSENT,
    RosterFileError,
    decode_csv_bytes,
    parse_csv,
    plan_import,
    render_roster_csv,
)
from bot.services import roster
from bot.services.roster import import_roster
from tests.fakes import FakeDatabase, raises_saying
from tests.unit.conftest import START, audit_actions, build_advocate

FIXTURES = Path(__file__).parent.parent / "fixtures" / "roster"
EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "roster.csv"


def plan(text: str, existing: dict[str, Advocate] | None = None, *,
         day_first: bool | None = None) -> roster_csv.ImportPlan:
    return plan_import(parse_csv(text), existing or {}, now=START, day_first=day_first)


def fixture_plan(name: str) -> roster_csv.ImportPlan:
    return plan_import(parse_csv(decode_csv_bytes((FIXTURES / name).read_bytes())), {}, now=START)


def problems(result: roster_csv.ImportPlan) -> dict[int, str]:
    return {p.line: "; ".join(p.reasons) for p in result.problems}


def by_email(result: roster_csv.ImportPlan) -> dict[str, Advocate]:
    return {a.email: a for a in [*result.creates, *result.updates]}


def stored(db: FakeDatabase) -> dict[str, Advocate]:
    return {a.email: a for a in db.state.advocates.values()}


# --- reading the file -------------------------------------------------------------------


def test_a_utf8_bom_does_not_end_up_in_the_first_header() -> None:
    text = decode_csv_bytes("\ufeffEmail,Name,Company\nana@harbor.example,Ana,Harbor\n"
                            .encode())
    result = plan(text)
    assert not result.problems and not result.warnings
    assert by_email(result)["ana@harbor.example"].name == "Ana"


def test_excel_quoting_with_embedded_newlines_keeps_line_numbers_right() -> None:
    result = fixture_plan("excel_multiline.csv")
    # Lines 2-4, 7-8 and 12-13 are multi-line records; 6 and 10 are empty. A bad row is
    # reported on the physical line it starts on, as a text editor shows it.
    assert set(problems(result)) == {5, 9, 12}
    assert "Time Zone 'Nowhere/Zone'" in problems(result)[12]
    assert "Time Zone 'Mars/Olympus' is not an IANA time zone" in problems(result)[5]
    assert "Email 'dan@' is not a valid email address" in problems(result)[9]
    advocates = by_email(result)
    assert advocates["ana@harbor.example"].company == "Harbor, Inc."
    assert advocates["ana@harbor.example"].notes == (
        'Line one\nline two with "quotes"\nline three')
    assert advocates["cara@nordlys.example"].name == 'Cara "CJ" Jensen'
    assert advocates["émile@société.example"].name == "Émile Zola"


def test_crlf_and_lf_files_read_the_same() -> None:
    lf = "Email,Name,Company,Notes\nana@harbor.example,Ana,Harbor,\"one\ntwo\"\nbob@,Bob,B,\n"
    crlf = lf.replace("\n", "\r\n")
    assert problems(plan(lf)) == problems(plan(crlf)) == {4: problems(plan(lf))[4]}
    assert by_email(plan(crlf)) == by_email(plan(lf))
    assert by_email(plan(crlf))["ana@harbor.example"].notes == "one\ntwo"


def test_empty_lines_are_skipped_silently_and_still_counted_as_lines() -> None:
    text = "\n\nEmail,Name,Company\n\n,,\n   \nana@harbor.example,Ana,Harbor\n\nbob@,Bob,B\n\n"
    result = plan(text)
    assert result.rows == 2
    assert list(problems(result)) == [9]
    assert not result.warnings


def test_a_file_that_is_latin1_gets_one_error_naming_the_line_and_the_fix() -> None:
    with pytest.raises(RosterFileError) as raised:
        decode_csv_bytes((FIXTURES / "latin1.csv").read_bytes())
    message = str(raised.value)
    assert "not UTF-8" in message and "line 2" in message and "0xF3" in message
    assert "CSV UTF-8" in message and "--encoding cp1252" in message


async def test_a_streamed_file_that_is_latin1_gets_the_same_error(db: FakeDatabase) -> None:
    with pytest.raises(RosterFileError, match=r"not UTF-8: line 2 has the byte 0xF3"):
        await import_roster(db.uow, FIXTURES / "latin1.csv", now=START)
    report = await import_roster(db.uow, FIXTURES / "latin1.csv", now=START,
                                 encoding="cp1252")
    assert report.written and stored(db)["zoe@verdier.example"].name == "Zoë Laurent"


def test_an_explicit_legacy_encoding_reads_the_names_right() -> None:
    text = decode_csv_bytes((FIXTURES / "latin1.csv").read_bytes(), "cp1252")
    assert by_email(plan(text))["zoe@verdier.example"].name == "Zoë Laurent"


def test_utf16_with_a_byte_order_mark_is_read() -> None:
    data = "Email\tName\tCompany\r\nana@harbor.example\tAna López\tHarbor\r\n".encode("utf-16")
    assert by_email(plan(decode_csv_bytes(data)))["ana@harbor.example"].name == "Ana López"


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "empty"),
    (b"  \r\n\r\n", "empty"),
    (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old Excel workbook"),
    (b"E\x00m\x00a\x00i\x00l\x00", "NUL"),
])
def test_files_that_are_not_csv_get_one_clear_error(data: bytes, expected: str) -> None:
    with pytest.raises(RosterFileError, match=expected):
        decode_csv_bytes(data)


def test_a_quote_that_is_never_closed_is_an_error_naming_its_line() -> None:
    text = 'Email,Name,Company,Notes\nana@harbor.example,Ana,Harbor,ok\nbob@b.example,Bob,B,"oops\n'
    with pytest.raises(RosterFileError, match=r"line 3: a quoted cell .* never closed"):
        plan(text)


def test_a_cell_too_long_to_be_a_roster_value_is_an_error_naming_its_line() -> None:
    huge = "x" * 20_000_000
    for cell in (f'"{huge}"', huge):
        text = ("Email,Name,Company,Notes\nana@harbor.example,Ana,Harbor,ok\n"
                f"b@b.example,B,B,{cell}\n")
        with pytest.raises(RosterFileError, match=r"^line 3: a cell is too long") as raised:
            plan(text)
        assert "never closed" not in str(raised.value)


def test_a_file_without_an_email_column_is_one_error_naming_what_was_expected() -> None:
    with pytest.raises(RosterFileError) as raised:
        fixture_plan("no_email_column.csv")
    message = str(raised.value)
    assert "no email column" in message and "'Email'" in message and "'Email Address'" in message
    assert "'First Name', 'Last Name', 'Company'" in message


def test_a_semicolon_separated_excel_file_is_read_and_its_day_first_dates_inferred() -> None:
    result = fixture_plan("semicolon_day_first.csv")
    assert not result.problems
    advocates = by_email(result)
    assert advocates["uta@werk.example"].company == "Werk GmbH, Zweigstelle Süd"
    assert advocates["jan@werk.example"].renewal_date == date(2026, 4, 3)
    # 13/04 can only be day-first, so 02/04 in the same file is 2 April, not 4 February.
    assert advocates["ida@werk.example"].renewal_date == date(2026, 4, 2)


def test_a_salesforce_report_footer_is_dropped_with_a_warning() -> None:
    result = fixture_plan("salesforce_report.csv")
    assert not result.problems
    assert result.rows == 2
    assert "ignored the Salesforce report footer (lines 5-9)" in result.warnings


# --- headers -----------------------------------------------------------------------------


def test_salesforce_report_headers_are_mapped() -> None:
    result = fixture_plan("salesforce_report.csv")
    amelia = by_email(result)["amelia@harborpine.example"]
    assert amelia.name == "Amelia Hartmann"
    assert amelia.title == "Head of Payments"
    assert amelia.company == "Harbor & Pine Bank"
    assert amelia.account_id == "0015g00000HbPnA"
    assert amelia.industry == "Banking"
    assert amelia.country == "Germany"
    assert amelia.region == "EMEA"  # derived from the country
    assert amelia.company_size is CompanySize.L  # "3,400" employees
    assert amelia.account_owner_email == "jordan.lee@lumora.example"
    assert amelia.renewal_date == date(2026, 9, 30)  # 9/30/2026: month first
    assert amelia.health_score == 92
    assert amelia.timezone == "Europe/Berlin"  # from Salesforce's long time zone label
    marcus = by_email(result)["marcus@cloudstack.example"]
    assert marcus.timezone == "America/Los_Angeles"
    assert marcus.health_score is None


def test_hubspot_export_headers_are_mapped() -> None:
    result = fixture_plan("hubspot_contacts.csv")
    assert not result.problems
    advocates = by_email(result)
    chloe, raj = advocates["chloe@boreale.example"], advocates["raj@fleetwise.example"]
    assert chloe.name == "Chloé Tremblay"
    assert chloe.title == "Directrice des paiements"
    assert chloe.company == "Épicerie Boréale"
    assert (chloe.country, chloe.region) == ("Canada", "NA")
    assert chloe.company_size is CompanySize.L
    # HubSpot's "Preferred language" (hs_language) is the language they read, not speak.
    assert (chloe.locale, chloe.languages) == ("fr", ("English",))
    assert chloe.timezone == "America/Toronto"  # "(GMT-05:00) America/Toronto"
    assert chloe.nps == 9
    assert raj.company_size is CompanySize.M  # "201-1000"
    assert raj.locale == "en_IN"
    assert raj.timezone == "America/Vancouver"  # "america_slash_vancouver"


def test_salesforce_api_names_are_mapped() -> None:
    text = ("Email,FirstName,LastName,Account.Name,MailingCountry,NumberOfEmployees,"
            "Reference_Types__c,Health_Score__c\n"
            "ana@harbor.example,Ana,López,Harbor,ES,12000,Site visit;Case study,71\n")
    result = plan(text)
    assert not result.problems and not result.warnings
    ana = by_email(result)["ana@harbor.example"]
    assert (ana.name, ana.company, ana.region, ana.company_size, ana.health_score) == (
        "Ana López", "Harbor", "EMEA", CompanySize.XL, 71)
    assert ana.reference_types == {ReferenceType.SITE_VISIT, ReferenceType.CASE_STUDY}


def test_headers_match_whatever_their_case_and_punctuation() -> None:
    text = "EMAIL ADDRESS,full_name,COMPANY NAME,Job-Title,time zone\n" \
           "ana@harbor.example,Ana,Harbor,CTO,europe/madrid\n"
    ana = by_email(plan(text))["ana@harbor.example"]
    assert (ana.name, ana.company, ana.title, ana.timezone) == (
        "Ana", "Harbor", "CTO", "Europe/Madrid")


def test_unknown_columns_are_named_once_in_a_warning_and_ignored() -> None:
    rows = "\n".join(f"a{i}@x.example,A {i},X,+1 555 0100,Web" for i in range(5))
    result = plan(f"Email,Name,Company,Phone,Lead Source\n{rows}\n")
    assert not result.problems
    assert result.warnings == ["ignored unknown columns: 'Phone', 'Lead Source'"]


def test_an_owner_column_of_names_is_ignored_with_a_warning_instead_of_failing_rows() -> None:
    result = plan("Email,Name,Company,Contact Owner\nana@harbor.example,Ana,Harbor,Jordan Lee\n")
    assert not result.problems
    assert by_email(result)["ana@harbor.example"].account_owner_email is None
    assert any("'Contact Owner' holds names" in w for w in result.warnings)


def test_an_owner_column_with_addresses_is_validated_cell_by_cell() -> None:
    result = plan("Email,Name,Company,Account Owner\n"
                  "ana@harbor.example,Ana,Harbor,Jordan.Lee@Lumora.example\n"
                  "bob@kestrel.example,Bob,Kestrel,Jordan Lee\n")
    assert by_email(result)["ana@harbor.example"].account_owner_email == "jordan.lee@lumora.example"
    assert problems(result) == {3: "Account Owner 'Jordan Lee' is not a valid email address: "
                                   "an email address must have an @-sign"}


def test_full_name_wins_over_first_and_last_name_but_they_fill_in_when_it_is_blank() -> None:
    result = plan("Email,Full Name,First Name,Last Name,Company\n"
                  "a@x.example,Ana María López,Ana,López,X\n"
                  "b@x.example,,Bob,Stone,X\n"
                  "c@x.example,,Cher,,X\n")
    names = {e: a.name for e, a in by_email(result).items()}
    assert names == {"a@x.example": "Ana María López", "b@x.example": "Bob Stone",
                     "c@x.example": "Cher"}


# --- row problems ------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_all_its_problems_together() -> None:
    result = fixture_plan("bad_rows.csv")
    found = problems(result)
    assert set(found) == {3, 5, 6}
    # In the file's column order, all in one line:
    for piece in ("Email 'bob@' is not a valid email address",
                  "unknown reference type 'podcast'",
                  "Renewal Date '2026-02-30' is not a date",
                  "Health Score '120' is outside 0-100",
                  "unknown status 'zombie' (expected active, paused or retired)",
                  "NPS '11' is outside 0-10"):
        assert piece in found[3], piece
    assert found[5] == "email 'ok@good.example' already appears on line 2"
    for piece in ("unknown reference types 'telepathy', 'carrier pigeon'",
                  "Time Zone 'Europe/Pariss' is not an IANA time zone",
                  "Renewal Date 'soon' is not a date", "Health Score 'abc' is not a number",
                  "name is empty"):
        assert piece in found[6], piece
    assert sorted(by_email(result)) == ["fine@good.example", "ok@good.example"]


def test_a_time_zone_with_stray_spaces_is_trimmed_like_every_cell() -> None:
    # Cells are trimmed: "Europe/Paris " is Europe/Paris, not an error. (Row 3 of
    # bad_rows.csv has one and its time zone is not among that row's problems.)
    assert "Time Zone" not in problems(fixture_plan("bad_rows.csv"))[3]


def test_a_duplicate_email_names_the_line_where_it_first_appeared_whatever_its_case() -> None:
    result = plan("Email,Name,Company\nAna@Harbor.example,Ana,H\nb@x.example,B,X\n"
                  "ana@harbor.EXAMPLE,Ana 2,H\n")
    assert problems(result) == {4: "email 'ana@harbor.example' already appears on line 2"}


@pytest.mark.parametrize(("cell", "reason"), [
    ("", "Email is empty"),
    ("bob@", "there must be something after the @-sign"),
    ("bob.example.com", "must have an @-sign"),
    ("bob@localhost", "should have a period"),
    ("bob smith@x.example", "invalid character"),
])
def test_bad_emails_are_reported_with_the_reason(cell: str, reason: str) -> None:
    result = plan(f"Email,Name,Company\n{cell},Bob,X\n")
    assert reason in problems(result)[2]


@pytest.mark.parametrize(("cell", "expected"), [
    ("call", {ReferenceType.CALL}),
    ("Reference call; Video call", {ReferenceType.CALL, ReferenceType.VIDEO_CALL}),
    ("video_call, case_study", {ReferenceType.VIDEO_CALL, ReferenceType.CASE_STUDY}),
    ("Email / written", {ReferenceType.EMAIL}),
    ("Zoom;Webinar;Onsite", {ReferenceType.VIDEO_CALL, ReferenceType.SPEAKING,
                             ReferenceType.SITE_VISIT}),
    ("", {ReferenceType.CALL}),  # the model's default
])
def test_reference_types_are_read_by_value_label_or_common_name(
    cell: str, expected: set[ReferenceType]
) -> None:
    result = plan(f'Email,Name,Company,Reference Types\na@x.example,A,X,"{cell}"\n')
    assert by_email(result)["a@x.example"].reference_types == expected


def test_unknown_reference_types_are_named() -> None:
    result = plan('Email,Name,Company,Reference Types\na@x.example,A,X,"call; podcast"\n')
    assert problems(result)[2] == ("Reference Types: unknown reference type 'podcast' "
                                   "(expected call, video call, email, site visit, speaking "
                                   "or case study)")


@pytest.mark.parametrize(("cell", "zone"), [
    ("Europe/Paris", "Europe/Paris"),
    ("europe/paris", "Europe/Paris"),
    ("(GMT+01:00) Central European Standard Time (Europe/Paris)", "Europe/Paris"),
    ("(GMT-05:00) America/New York", "America/New_York"),
    ("america_slash_new_york", "America/New_York"),
    ("", "UTC"),
])
def test_time_zones_are_understood_in_crm_spellings(cell: str, zone: str) -> None:
    result = plan(f'Email,Name,Company,Timezone\na@x.example,A,X,"{cell}"\n')
    assert by_email(result)["a@x.example"].timezone == zone


@pytest.mark.parametrize("cell", ["Europe/Pariss", "CET+1", "Mars/Olympus", "GMT+2"])
def test_invalid_time_zones_are_reported(cell: str) -> None:
    result = plan(f"Email,Name,Company,Time Zone\na@x.example,A,X,{cell}\n")
    assert problems(result)[2].startswith(f"Time Zone '{cell}' is not an IANA time zone")


@pytest.mark.parametrize(("header", "cell", "hours"), [
    ("Call Hours", "Mon-Fri 09:00-18:00", "Mon-Fri 09:00-18:00"),
    ("Working Hours", "9-17", "Mon-Fri 09:00-17:00"),
    ("Business Hours", "weekdays 8:30am-5pm", "Mon-Fri 08:30-17:00"),
    ("Call Hours", "Mon, Wed 10-16", "Mon,Wed 10:00-16:00"),
    ("Call Hours", "", ""),  # the program's default
])
def test_call_hours_are_read_as_people_write_them(header: str, cell: str, hours: str) -> None:
    result = plan(f'Email,Name,Company,{header}\na@x.example,A,X,"{cell}"\n')
    assert by_email(result)["a@x.example"].call_hours == hours


def test_hours_that_are_not_hours_are_reported_on_their_line() -> None:
    result = plan("Email,Name,Company,Call Hours\na@x.example,A,X,9-17\n"
                  "b@x.example,B,X,whenever\n")
    assert problems(result) == {3: "Call Hours 'whenever' are not hours like "
                                   "'Mon-Fri 09:00-18:00' or '9-17'"}


@pytest.mark.parametrize(("cell", "band"), [
    ("12", CompanySize.XS), ("50", CompanySize.XS), ("51", CompanySize.S),
    ("200", CompanySize.S), ("201", CompanySize.M), ("1,000", CompanySize.M),
    ("1001", CompanySize.L), ("5000", CompanySize.L), ("5001", CompanySize.XL),
    ("250000", CompanySize.XL), ("11-50", CompanySize.XS), ("201-1000", CompanySize.M),
    ("1,001\u20135,000", CompanySize.L), ("5001+", CompanySize.XL), ("10,000+", CompanySize.XL),
    ("XL", CompanySize.XL), ("", None),
])
def test_employee_counts_and_bands_map_to_company_size_bands(
    cell: str, band: CompanySize | None
) -> None:
    result = plan(f'Email,Name,Company,Number of Employees\na@x.example,A,X,"{cell}"\n')
    assert by_email(result)["a@x.example"].company_size is band


@pytest.mark.parametrize("cell", ["lots", "-5", "12.5"])
def test_an_employee_count_that_is_not_a_count_is_reported(cell: str) -> None:
    result = plan(f"Email,Name,Company,Company size\na@x.example,A,X,{cell}\n")
    assert "is not a number of employees or a band" in problems(result)[2]


@pytest.mark.parametrize(("cell", "expected"), [
    ("2026-05-31", date(2026, 5, 31)), ("2026-05-31 00:00", date(2026, 5, 31)),
    ("2026-05-31T00:00:00Z", date(2026, 5, 31)), ("31.05.2026", date(2026, 5, 31)),
    ("5/31/2026", date(2026, 5, 31)), ("31/5/2026", date(2026, 5, 31)),
    ("31 May 2026", date(2026, 5, 31)), ("May 31, 2026", date(2026, 5, 31)),
])
def test_dates_are_read_in_iso_and_the_usual_crm_formats(cell: str, expected: date) -> None:
    result = plan(f'Email,Name,Company,Renewal Date\na@x.example,A,X,"{cell}"\n')
    assert by_email(result)["a@x.example"].renewal_date == expected


@pytest.mark.parametrize(("cell", "expected"), [
    ("2026-03-01 10:00", datetime(2026, 3, 1, 10, 0, tzinfo=UTC)),  # no offset: UTC
    ("2026-03-01T11:00:00+01:00", datetime(2026, 3, 1, 10, 0, tzinfo=UTC)),
    ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
])
def test_moments_are_stored_as_aware_utc(cell: str, expected: datetime) -> None:
    result = plan(f"Email,Name,Company,Consented At\na@x.example,A,X,{cell}\n")
    consented_at = by_email(result)["a@x.example"].consented_at
    assert consented_at == expected
    assert consented_at is not None and consented_at.utcoffset() is not None


def test_an_ambiguous_slashed_date_is_an_error_unless_the_order_is_known() -> None:
    text = "Email,Name,Company,Renewal Date\na@x.example,A,X,03/04/2026\n"
    assert "is ambiguous" in problems(plan(text))[2]
    assert by_email(plan(text, day_first=True))["a@x.example"].renewal_date == date(2026, 4, 3)
    assert by_email(plan(text, day_first=False))["a@x.example"].renewal_date == date(2026, 3, 4)


@pytest.mark.parametrize(("cell", "score"), [("0", 0), ("100", 100), ("87.5", 88), ("85%", 85)])
def test_health_scores_from_cs_tools_are_rounded(cell: str, score: int) -> None:
    result = plan(f"Email,Name,Company,Health Score\na@x.example,A,X,{cell}\n")
    assert by_email(result)["a@x.example"].health_score == score


@pytest.mark.parametrize("cell", ["-1", "101", "120"])
def test_health_outside_0_to_100_is_an_error(cell: str) -> None:
    result = plan(f"Email,Name,Company,Health Score\na@x.example,A,X,{cell}\n")
    assert problems(result)[2] == f"Health Score '{cell}' is outside 0-100"


def test_an_unknown_status_is_an_error_and_synonyms_are_understood() -> None:
    result = plan("Email,Name,Company,Status\na@x.example,A,X,On hold\nb@x.example,B,X,gone\n")
    assert by_email(result)["a@x.example"].status is AdvocateStatus.PAUSED
    assert problems(result) == {
        3: "Status: unknown status 'gone' (expected active, paused or retired)"}


def test_limits_and_points_must_be_whole_numbers() -> None:
    result = plan("Email,Name,Company,Own Max per 90 Days,Points\na@x.example,A,X,1.5,-3\n")
    assert problems(result)[2] == ("Own Max per 90 Days '1.5' is not a whole number; "
                                   "Points '-3' is negative")


@pytest.mark.parametrize(("header", "cell", "reason"), [
    ("NPS", "1e1000000", "NPS '1e1000000' is not a number"),
    ("Health Score", "-1e999999", "Health Score '-1e999999' is not a number"),
    ("Max per 90 Days", "1e200000", "Max per 90 Days '1e200000' is not a whole number"),
    ("Cooldown Days", "99999", "Cooldown Days '99999' is more than 3,650"),
    ("Max Open Asks", "5000", "Max Open Asks '5000' is more than 1,000"),
    ("Points", "9" * 5000, f"Points '{'9' * 5000}' is not a whole number"),
    ("Points", "3000000000", "Points '3000000000' is more than 1,000,000,000"),
    ("Number of Employees", "1e1000000", "is not a number of employees"),
    ("Renewal Date", "9999-12-31", "Renewal Date '9999-12-31' is out of range"),
    ("Snoozed Until", "9999-12-31T23:00:00-05:00", "Snoozed Until '9999-12-31T23:00:00-05:00' "
                                                  "is out of range"),
    ("Notes", "bell\x07here", "Notes has control characters"),
    ("Title", "esc\x1b[2J", "Title has control characters"),
])
def test_values_storage_cannot_hold_are_bad_rows_with_their_line(
        header: str, cell: str, reason: str) -> None:
    result = plan(f"Email,Name,Company,{header}\na@x.example,A,X,\nb@x.example,B,X,{cell}\n")
    assert list(problems(result)) == [3]
    assert reason in problems(result)[3]


def test_everyday_addresses_take_the_fast_path_to_the_same_answer_as_the_validator() -> None:
    from email_validator import validate_email

    from bot.roster_csv.cells import _PLAIN_EMAIL, parse_email
    for address in ("ana@harbor.example", "Ana.Lopez+ref@Harbor-Bank.co.uk", "o'neil@x.io",
                    "a_b-c@sub.domain.example", "x@xn--bcher-kva.example", "ü@x.example"):
        expected = validate_email(address, check_deliverability=False).normalized.lower()
        assert parse_email(address) == expected
    assert _PLAIN_EMAIL.fullmatch("Ana.Lopez+ref@Harbor-Bank.co.uk")
    for address in ("a..b@x.example", ".a@x.example", "a@-x.example", "a@x.123",
                    "a@x.test", "a@localhost"):
        with pytest.raises(Exception, match="is not a valid email address"):
            parse_email(address)


def test_a_row_with_more_cells_than_the_header_is_reported() -> None:
    result = plan("Email,Name,Company\na@x.example,Ana,Harbor, Inc.\n")
    assert "the row has 4 cells but the header has 3" in problems(result)[2]


def test_a_new_advocate_needs_a_name_and_a_company_column() -> None:
    result = plan("Email,Health Score\nnew@x.example,80\n")
    assert problems(result)[2] == (
        "new@x.example is not in the roster yet, and the file has no name column to create "
        "them with; new@x.example is not in the roster yet, and the file has no company "
        "column to create them with")


# --- multi-value cells -------------------------------------------------------------------


@pytest.mark.parametrize(("cell", "values"), [
    ("Payments API; Fraud Shield", ("Payments API", "Fraud Shield")),
    ("Payments API, Fraud Shield", ("Payments API", "Fraud Shield")),
    ("Acme, Inc.; Globex", ("Acme, Inc.", "Globex")),
    ("Billing;;billing; ", ("Billing",)),
    ("one\ntwo", ("one", "two")),
    ("", ()),
])
def test_multi_value_cells_split_on_semicolons_else_commas(
    cell: str, values: tuple[str, ...]
) -> None:
    assert roster_csv.split_multi(cell) == values


def test_a_single_value_with_a_comma_survives_the_round_trip() -> None:
    assert roster_csv.split_multi(roster_csv.join_multi(["Acme, Inc."])) == ("Acme, Inc.",)


# --- consent and merging with the stored roster -----------------------------------------


def test_imported_rows_count_as_consented_by_the_program_manager() -> None:
    ana = by_email(plan("Email,Name,Company\nana@harbor.example,Ana,Harbor\n"))[
        "ana@harbor.example"]
    assert ana.status is AdvocateStatus.ACTIVE
    assert (ana.consent_source, ana.consented_at, ana.joined_on) == (
        "crm-import", START, START.date())


def test_consent_no_imports_the_advocate_paused_and_records_why() -> None:
    result = plan("Email,Name,Company,Reference Consent\n"
                  "a@x.example,A,X,No\nb@x.example,B,X,yes\nc@x.example,C,X,\n")
    a, b, c = (by_email(result)[f"{x}@x.example"] for x in "abc")
    assert (a.status, a.consented_at, a.consent_source) == (AdvocateStatus.PAUSED, None,
                                                            NO_CONSENT)
    assert (b.status, b.consented_at) == (AdvocateStatus.ACTIVE, START)
    assert (c.status, c.consented_at) == (AdvocateStatus.ACTIVE, START)


def test_consent_no_with_status_active_is_a_contradiction() -> None:
    result = plan("Email,Name,Company,Consent,Status\na@x.example,A,X,no,active\n")
    assert problems(result)[2] == ("status 'active' needs the advocate's consent, but the "
                                   "consent column says no")


def test_consent_given_later_reactivates_an_advocate_paused_for_lack_of_it() -> None:
    waiting = replace(build_advocate(email="a@x.example", status=AdvocateStatus.PAUSED,
                                     consent_source=NO_CONSENT), id=7)
    result = plan("Email,Consent\na@x.example,yes\n", {"a@x.example": waiting})
    updated = by_email(result)["a@x.example"]
    assert (updated.status, updated.consented_at, updated.consent_source) == (
        AdvocateStatus.ACTIVE, START, "crm-import")


def test_columns_the_file_lacks_leave_stored_fields_alone() -> None:
    current = replace(build_advocate(email="a@x.example", notes="met at summit", points=40,
                                     own_limits=LimitOverrides(max_per_90_days=1)), id=3)
    result = plan("Email,Health Score\nA@X.example,55\n", {"a@x.example": current})
    assert not result.problems
    assert result.updates == [replace(current, health_score=55)]


def test_blank_cells_clear_crm_fields_but_keep_program_managed_ones() -> None:
    current = replace(build_advocate(email="a@x.example", status=AdvocateStatus.PAUSED,
                                     points=40, joined_on=date(2025, 1, 6)), id=3)
    result = plan("Email,Name,Company,Title,Health Score,Status,Points,Joined On\n"
                  "a@x.example,A,X,,,,,\n", {"a@x.example": current})
    updated = result.updates[0]
    assert (updated.title, updated.health_score) == ("", None)
    assert (updated.status, updated.points, updated.joined_on) == (
        AdvocateStatus.PAUSED, 40, date(2025, 1, 6))


def test_a_row_identical_to_the_stored_advocate_is_unchanged() -> None:
    current = replace(build_advocate(email="a@x.example"), id=3)
    result = plan(render_roster_csv([current]), {"a@x.example": current})
    assert (result.unchanged, result.creates, result.updates) == (1, [], [])


@pytest.mark.parametrize(("header", "cell", "locale"), [
    ("Locale", "ja", "ja"),
    ("Locale", "ja-JP", "ja_JP"),
    ("Preferred Language", "ja_JP", "ja_JP"),
    ("Language Preference", "Japanese", "ja"),
    ("hs_language", "日本語", "ja"),
    ("Locale__c", "EN-us", "en_US"),
    ("Preferred_Language__c", "English", "en"),
    ("Locale", "", ""),  # not said: the platform's or the program's language then
])
def test_the_locale_is_read_by_code_or_name(header: str, cell: str, locale: str) -> None:
    result = plan(f"Email,Name,Company,Languages,{header}\na@x.example,A,X,German,{cell}\n")
    assert not result.problems
    advocate = by_email(result)["a@x.example"]
    assert (advocate.locale, advocate.languages) == (locale, ("German",))


def test_a_locale_that_names_no_language_is_reported_on_its_line() -> None:
    result = plan("Email,Name,Company,Locale\na@x.example,A,X,ja\nb@x.example,B,X,Klingonish\n"
                  "c@x.example,C,X,\"en, hi\"\n")
    assert problems(result) == {
        3: "Locale 'Klingonish' is not a language or locale like 'ja', 'ja-JP' or 'Japanese'",
        4: "Locale 'en, hi' is not a language or locale like 'ja', 'ja-JP' or 'Japanese'"}


@pytest.mark.parametrize(("header", "cell", "day"), [
    ("Customer Since", "2021-03-01", date(2021, 3, 1)),
    ("Customer_Since__c", "2021-03-01", date(2021, 3, 1)),  # Salesforce's API name
    ("Customer Since", "15/03/2021", date(2021, 3, 15)),
    ("became_a_customer_date", "2021-03-15 10:22", date(2021, 3, 15)),  # HubSpot's
    ("Became a Customer Date", "2021-03-15T23:30:00-08:00", date(2021, 3, 15)),
    ("Customer Since", "", None),  # not said: the readiness check's "tenure unknown"
])
def test_customer_since_is_read_under_the_crms_names(header: str, cell: str,
                                                     day: date | None) -> None:
    result = plan(f"Email,Name,Company,{header}\na@x.example,A,X,{cell}\n")
    assert not result.problems
    assert by_email(result)["a@x.example"].customer_since == day


def test_a_customer_since_that_is_not_a_date_is_reported_on_its_line() -> None:
    result = plan("Email,Name,Company,Customer Since\na@x.example,A,X,2021-03-01\n"
                  "b@x.example,B,X,last spring\nc@x.example,C,X,2021-02-30\n")
    assert problems(result) == {
        3: "Customer Since 'last spring' is not a date (expected YYYY-MM-DD)",
        4: "Customer Since '2021-02-30' is not a date (expected YYYY-MM-DD)"}


@pytest.mark.parametrize(("cell", "languages"), [
    ("ja; English", ("Japanese", "English")),
    ("日本語, 英語", ("Japanese", "English")),
    ("Japanese, ja, JA-jp", ("Japanese",)),
    ("pt-BR, Deutsch", ("Portuguese", "German")),
    ("klingon-ish", ("Klingon-ish",)),  # no language we know: kept as written
])
def test_spoken_languages_get_one_spelling_whatever_language_they_are_written_in(
    cell: str, languages: tuple[str, ...]
) -> None:
    result = plan(f'Email,Name,Company,Languages\na@x.example,A,X,"{cell}"\n')
    assert by_email(result)["a@x.example"].languages == languages


# --- export ------------------------------------------------------------------------------


def test_the_export_has_the_canonical_headers_and_every_roster_field() -> None:
    advocate = build_advocate(
        email="a@x.example", do_not_use_with=("Globex", "Initech"), points=25,
        own_limits=LimitOverrides(max_per_90_days=2, cooldown_days=30),
        manager_limits=LimitOverrides(max_open_asks=1), unavailable_until=date(2026, 4, 1),
        joined_on=date(2025, 6, 1), public_recognition=True, status=AdvocateStatus.PAUSED,
        account_owner_email="jordan.lee@lumora.example", renewal_date=date(2026, 9, 30),
        consent_source="self-onboarded", consented_at=datetime(2025, 6, 1, 8, 30, tzinfo=UTC))
    header, _ = render_roster_csv([advocate]).splitlines()
    assert tuple(header.split(",")) == CANONICAL_HEADERS
    cells = dict(roster.describe(advocate))
    assert cells["Do Not Use With"] == "Globex; Initech"
    assert (cells["Own Max per 90 Days"], cells["Own Cooldown Days"]) == ("2", "30")
    assert (cells["Manager Max Open Asks"], cells["Manager Max per 90 Days"]) == ("1", "")
    assert (cells["Status"], cells["Unavailable Until"], cells["Points"]) == (
        "paused", "2026-04-01", "25")
    assert (cells["Joined On"], cells["Public Recognition"]) == ("2025-06-01", "yes")
    assert (cells["Consent"], cells["Consent Date"]) == ("yes", "2025-06-01T08:30:00+00:00")
    assert cells["Reference Types"] == "call; video_call"
    assert cells["Locale"] == "" and cells["Customer Since"] == ""
    assert dict(roster.describe(replace(advocate, customer_since=date(2021, 3, 1))))[
        "Customer Since"] == "2021-03-01"
    assert dict(roster.describe(replace(advocate, locale="ja_JP")))["Locale"] == "ja_JP"


def test_formula_like_cells_are_defused_on_export_and_restored_on_import() -> None:
    current = replace(build_advocate(email="a@x.example", name="=HYPERLINK(\"x\")",
                                     notes="'=already quoted", company="@Home"), id=1)
    text = render_roster_csv([current])
    assert "'=HYPERLINK" in text and "'@Home" in text and "''=already quoted" in text
    back = plan(text)
    assert back.creates[0].name == '=HYPERLINK("x")'
    assert back.creates[0].notes == "'=already quoted"
    assert back.creates[0].company == "@Home"


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"),
                           blacklist_characters="\ufeff") | st.sampled_from("\n,;\"'=+-@"),
    max_size=30,
).map(str.strip)
_VALUE = _TEXT.map(lambda s: s.replace(";", "").replace("\n", " ").strip()).filter(bool)
_EMAIL = st.builds("{}.{}@{}.example".format,
                   st.text(string.ascii_lowercase, min_size=1, max_size=8),
                   st.integers(0, 999), st.sampled_from(["harbor", "kestrel", "nordlys"]))
_LIMITS = st.builds(LimitOverrides, *(st.none() | st.integers(0, 20) for _ in range(4)))
# The dates a roster holds: 1900 to 2999 (later ones overflow date maths, see cells.py).
_DATES = st.dates(date(1900, 1, 1), date(2999, 12, 31))
_MOMENT = st.none() | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31),
                                   timezones=st.just(UTC))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(advocate=st.builds(
    Advocate,
    email=_EMAIL, name=_VALUE, company=_VALUE, title=_TEXT, account_id=_TEXT,
    industry=_TEXT, region=_TEXT, country=_TEXT,
    company_size=st.none() | st.sampled_from(CompanySize),
    products=st.lists(_VALUE, max_size=3, unique_by=str.lower).map(tuple),
    use_cases=st.lists(_VALUE, max_size=3, unique_by=str.lower).map(tuple),
    languages=st.lists(_VALUE, max_size=3, unique_by=str.lower).map(tuple),
    timezone=st.sampled_from(["UTC", "Europe/Paris", "America/Sao_Paulo", "Asia/Kolkata"]),
    locale=st.sampled_from(["", "ja", "ja_JP", "en_US", "zh_Hant_TW"]),
    reference_types=st.frozensets(st.sampled_from(ReferenceType)),
    public_recognition=st.booleans(),
    account_owner_email=st.none() | _EMAIL,
    health_score=st.none() | st.integers(0, 100), nps=st.none() | st.integers(0, 10),
    renewal_date=st.none() | _DATES, customer_since=st.none() | _DATES,
    status=st.sampled_from(AdvocateStatus),
    unavailable_until=st.none() | _DATES, snoozed_until=_MOMENT,
    do_not_use_with=st.lists(_VALUE, max_size=3, unique_by=str.lower).map(tuple),
    own_limits=_LIMITS, manager_limits=_LIMITS, points=st.integers(0, 10_000),
    joined_on=st.none() | _DATES, consent_source=_TEXT, consented_at=_MOMENT,
    notes=_TEXT,
))
def test_import_export_import_is_lossless_for_any_advocate(advocate: Advocate) -> None:
    first = plan(render_roster_csv([advocate]))
    assert not first.problems, first.problems
    imported = replace(first.creates[0], id=1)
    exported = render_roster_csv([imported])
    second = plan(exported, {imported.email: imported})
    assert (len(second.creates), len(second.updates), second.unchanged) == (0, 0, 1), (
        second.problems, second.updates)
    third = plan(exported)
    assert render_roster_csv([replace(third.creates[0], id=1)]) == exported


# --- use cases on the fake unit of work ---------------------------------------------------


async def test_one_bad_row_means_nothing_is_written(db: FakeDatabase) -> None:
    report = await import_roster(db.uow, FIXTURES / "bad_rows.csv", now=START)
    assert not report.written
    assert [p.line for p in report.problems] == [3, 5, 6]
    assert (report.created, report.skipped) == (2, 0)  # what would have been created
    assert db.commits == 0 and db.state.advocates == {}


async def test_skip_invalid_writes_the_valid_rows_and_lists_the_skipped_ones(
    db: FakeDatabase,
) -> None:
    report = await import_roster(db.uow, FIXTURES / "bad_rows.csv", now=START,
                                 skip_invalid=True)
    assert report.written
    assert (report.created, report.updated, report.unchanged, report.skipped) == (2, 0, 0, 3)
    assert [p.line for p in report.problems] == [3, 5, 6]
    assert sorted(stored(db)) == ["fine@good.example", "ok@good.example"]
    assert stored(db)["ok@good.example"].name == "Olive Ok"  # the first of the duplicates
    assert db.commits == 1


async def test_a_dry_run_reports_without_writing(db: FakeDatabase) -> None:
    report = await import_roster(db.uow, EXAMPLE, now=START, dry_run=True)
    assert (report.created, report.written, db.commits) == (40, False, 0)


async def test_the_import_upserts_by_email_and_is_audited(db: FakeDatabase) -> None:
    await import_roster(db.uow, "Email,Name,Company\nana@harbor.example,Ana,Harbor\n", now=START)
    report = await import_roster(
        db.uow, "Email,Name,Company\nANA@harbor.example,Ana López,Harbor\nb@x.example,B,X\n",
        now=START, actor="cli:pat")
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert stored(db)["ana@harbor.example"].name == "Ana López"
    assert len(db.state.advocates) == 2
    assert audit_actions(db, "roster") == ["roster.imported", "roster.imported"]
    assert db.state.audit[-1].actor == "cli:pat"
    assert db.state.audit[-1].detail["created"] == 1


async def test_the_sample_roster_imports_cleanly_with_every_region_and_some_paused(
    db: FakeDatabase,
) -> None:
    report = await import_roster(db.uow, EXAMPLE, now=START)
    assert (report.ok, report.warnings, report.created) == (True, [], 40)
    advocates = list(db.state.advocates.values())
    assert {a.region for a in advocates} == {"EMEA", "NA", "APAC", "LATAM"}
    assert len({a.industry for a in advocates}) >= 8
    assert len({a.company_size for a in advocates}) == 5
    paused = {a.email for a in advocates if a.status is AdvocateStatus.PAUSED}
    assert paused == {"pieter.devries@grachtwerk.example", "olivia.schmidt@pocketwise.example"}
    assert all(a.consent_source == NO_CONSENT for a in advocates if a.email in paused)


async def test_import_export_import_through_the_fakes_changes_nothing(db: FakeDatabase) -> None:
    await import_roster(db.uow, EXAMPLE, now=START)
    exported = await roster.export_roster(db.uow)
    report = await import_roster(db.uow, exported.encode("utf-8-sig"), now=START)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 40)
    assert await roster.export_roster(db.uow) == exported


async def test_progress_is_reported_after_each_chunk(db: FakeDatabase) -> None:
    rows = "".join(f"a{i}@x.example,A {i},X\n" for i in range(600))
    calls: list[tuple[str, int, int]] = []
    await import_roster(db.uow, "Email,Name,Company\n" + rows, now=START,
                        progress=lambda *call: calls.append(call))
    assert calls == [("check", 250, 600), ("check", 500, 600), ("check", 600, 600)]


async def test_get_advocate_finds_by_email_in_any_case_and_names_a_missing_one(
    db: FakeDatabase,
) -> None:
    await import_roster(db.uow, EXAMPLE, now=START)
    found = await roster.get_advocate(db.uow, " Zoe.Laurent@MaisonVerdier.example ")
    assert found.name == "Zoë Laurent"
    with raises_saying(NotFound, r"no advocate with email 'nobody@x\.example'"):
        await roster.get_advocate(db.uow, "nobody@x.example")


async def test_list_advocates_filters_by_status(db: FakeDatabase) -> None:
    await import_roster(db.uow, EXAMPLE, now=START)
    assert len(await roster.list_advocates(db.uow)) == 40
    paused = await roster.list_advocates(db.uow, status=AdvocateStatus.PAUSED)
    assert [a.name for a in paused] == ["Olivia Schmidt", "Pieter de Vries"]


async def test_bad_rows_in_later_chunks_keep_their_lines_and_stop_the_earlier_chunks(
    db: FakeDatabase, tmp_path: Path,
) -> None:
    rows = [f"a{i}@x.example,A {i},X\n" for i in range(600)]
    rows[398] = "a0@x.example,Again,X\n"  # line 400 repeats line 2
    rows[498] = "not-an-email,Bad,X\n"  # line 500
    path = tmp_path / "roster.csv"
    path.write_text("Email,Name,Company\n" + "".join(rows), encoding="utf-8")
    report = await import_roster(db.uow, path, now=START)
    assert [p.line for p in report.problems] == [400, 500]
    assert "already appears on line 2" in str(report.problems[0])
    assert (report.written, db.commits, db.state.advocates) == (False, 0, {})
    skipped = await import_roster(db.uow, path, now=START, skip_invalid=True)
    assert (skipped.written, skipped.created, skipped.skipped) == (True, 598, 2)
