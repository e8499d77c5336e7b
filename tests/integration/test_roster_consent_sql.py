"""The roster CSV and consent records: an import records each advocate it consents (the
CRM's word where the Consent column says yes, else the program manager's), and the export
carries Consent Date and Consent Version."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from bot.services.roster import export_roster, import_roster
from storage.uow import SqlUnitOfWorkFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_import_records_consent_and_export_carries_its_date_and_version(
        uow_factory: SqlUnitOfWorkFactory) -> None:
    first = "Email,Name,Company\nada@acme.example,Ada,Acme\n"
    report = await import_roster(uow_factory, first, now=NOW, actor="pat@vendor.example")
    assert report.created == 1
    second = ("Email,Name,Company,Consent,Consent Version\n"
              "bob@acme.example,Bob,Acme,yes,v0\ncy@acme.example,Cy,Acme,no,\n")
    await import_roster(uow_factory, second, now=NOW, actor="pat@vendor.example")
    async with uow_factory() as uow:
        ada = await uow.consents.latest("ADA@acme.example")
        bob = await uow.consents.latest("bob@acme.example")
        cy = await uow.consents.latest("cy@acme.example")
    assert ada is not None and bob is not None and cy is None
    assert (ada.source, ada.version, ada.platform, ada.recorded_by) == (
        "program_manager", "v1", "import", "pat@vendor.example")
    assert (bob.source, bob.version, bob.agreed_at) == ("crm", "v0", NOW)

    # Importing the same rows again records nothing new.
    await import_roster(uow_factory, first, now=NOW, actor="pat@vendor.example")
    async with uow_factory() as uow:
        assert len(await uow.consents.latest_all()) == 2

    rows = {r["Email"]: r for r in csv.DictReader(io.StringIO(await export_roster(uow_factory)))}
    assert (rows["ada@acme.example"]["Consent Date"],
            rows["ada@acme.example"]["Consent Version"]) == ("2026-03-02T09:00:00+00:00", "v1")
    assert rows["bob@acme.example"]["Consent Version"] == "v0"
    assert (rows["cy@acme.example"]["Consent"], rows["cy@acme.example"]["Consent Version"]) \
        == ("no", "")
