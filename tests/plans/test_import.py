"""Importing an edited workbook: the preview, the round trip, and every bad upload."""

import io
import zipfile
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from openpyxl import load_workbook

from plans.exports.importer import ImportStale, import_apply, import_pending, import_preview
from plans.exports.reader import WorkbookRefused
from plans.exports.service import plan_export_xlsx
from plans.models import Area
from plans.services import part_save, plan_current_round, plan_open


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", stdout=io.StringIO())


def person(username: str):
    return get_user_model().objects.get(username=username)


def demo_plan(slug: str):
    return plan_open(area=Area.objects.get(slug=slug), round=plan_current_round())


def exported(plan, user) -> bytes:
    data, _ = plan_export_xlsx(plan=plan, user=user)
    return data


def edited(data: bytes, changes: dict) -> bytes:
    """The workbook with cells changed, as a person would in a spreadsheet: {(sheet, cell): v}."""
    book = load_workbook(BytesIO(data))
    for (sheet, cell), value in changes.items():
        book[sheet][cell].value = value
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def find(data: bytes, sheet: str, text: str, column_offset: int = 1) -> str:
    """The coordinate of the cell `column_offset` to the right of the cell holding `text`."""
    ws = load_workbook(BytesIO(data))[sheet]
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == text:
                return ws.cell(row=cell.row, column=cell.column + column_offset).coordinate
    raise AssertionError(f"{text} not on {sheet}")


@pytest.mark.parametrize("slug", ["southampton", "walsall", "plymouth", "devon"])
def test_round_trip_an_unedited_export_changes_nothing(demo, slug):
    plan = demo_plan(slug)
    admin = person(f"{slug}-admin")
    preview = import_preview(plan=plan, user=admin, data=exported(plan, admin))
    assert preview.parts == []
    assert preview.notices == []


def test_an_edited_export_changes_exactly_the_edited_cells(demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    commissioner_data = exported(plan, commissioner)
    data = edited(
        commissioner_data,
        {
            ("Narrative", find(commissioner_data, "Narrative", "Governance")): "A joint board.",
            (
                "National conditions",
                find(
                    commissioner_data, "National conditions", "NHS Number is the primary identifier"
                ),
            ): "No",
        },
    )
    with pytest.raises(WorkbookRefused) as refused:
        import_preview(plan=plan, user=commissioner, data=data)
    # Saying No needs the commitment and date: the part's own checks, named by cell.
    assert any("National conditions, cell B" in m for m in refused.value.messages)

    data = edited(
        commissioner_data,
        {("Narrative", find(commissioner_data, "Narrative", "Governance")): "A joint board."},
    )
    preview = import_preview(plan=plan, user=commissioner, data=data)
    assert [p.key for p in preview.parts] == ["governance"]
    [change] = preview.parts[0].changes
    assert "<ins>joint</ins>" in change.html
    before = {p.key: p.content for p in plan.parts.all()}
    pending = import_pending(plan=plan, user=commissioner, preview=preview, file_name="w.xlsx")
    assert import_apply(pending=pending, user=commissioner) == ["governance"]
    after = {p.key: p.content for p in plan.parts.all()}
    assert after["governance"]["text"] == "A joint board."
    assert {k: v for k, v in after.items() if k != "governance"} == {
        k: v for k, v in before.items() if k != "governance"
    }
    with pytest.raises(ImportStale):
        import_apply(pending=pending, user=commissioner)


def test_a_scheme_amount_edited_in_the_workbook_changes_only_that_amount(demo):
    plan = demo_plan("walsall")
    finance = person("walsall-finance")
    data = exported(plan, finance)
    book = load_workbook(BytesIO(data))
    ws = book["Pooled budget schemes"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Scheme")
    spend = next(c for c in header if str(c.value).endswith("spend"))
    first = ws.cell(row=header[0].row + 1, column=spend.column)
    old = Decimal(str(first.value))
    data = edited(data, {("Pooled budget schemes", first.coordinate): float(old + 1000)})
    preview = import_preview(plan=plan, user=finance, data=data)
    assert [p.key for p in preview.parts] == ["schemes"]
    assert len(preview.parts[0].changes) == 1
    schemes = plan.parts.get(key="schemes")
    rows_before = schemes.content["rows"]
    import_apply(
        pending=import_pending(plan=plan, user=finance, preview=preview, file_name="w.xlsx"),
        user=finance,
    )
    schemes.refresh_from_db()
    year = spend.value.split(" ")[0]
    assert Decimal(schemes.content["rows"][0]["spend"][year]) == old + 1000
    rows_before[0]["spend"][year] = schemes.content["rows"][0]["spend"][year]
    assert schemes.content["rows"] == rows_before  # nothing else in any scheme moved


def test_a_part_changed_in_the_portal_since_the_export_is_a_conflict(demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    part = plan.parts.get(key="governance")
    part_save(
        part=part,
        content={"text": "Changed in the portal."},
        status="in_progress",
        base_version=part.version,
        user=commissioner,
    )
    data = edited(data, {("Narrative", find(data, "Narrative", "Governance")): "From the file."})
    preview = import_preview(plan=plan, user=commissioner, data=data)
    [change] = preview.parts
    assert "changed this part in the portal" in change.conflict
    pending = import_pending(plan=plan, user=commissioner, preview=preview, file_name="w.xlsx")
    assert import_apply(pending=pending, user=commissioner) == []
    part.refresh_from_db()
    assert part.content["text"] == "Changed in the portal."


def zipped(entries: dict) -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return out.getvalue()


def test_bad_uploads_are_refused_with_a_clear_message(demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    cases = [
        (b"not a workbook", "not an Excel workbook"),
        (b"x" * (5 * 1024 * 1024 + 1), "largest we accept is 5 MB"),
        (
            zipped({"[Content_Types].xml": "x", "xl/workbook.xml": "\0" * (50 * 1024 * 1024)}),
            "unpacks",
        ),
    ]
    for data, message in cases:
        with pytest.raises(WorkbookRefused) as refused:
            import_preview(plan=plan, user=commissioner, data=data)
        assert message in " ".join(refused.value.messages)
