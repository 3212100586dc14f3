"""Importing an edited workbook: the preview, the round trip, and every bad upload."""

import io
import re
import zipfile
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import RequestFactory
from openpyxl import load_workbook

from finance.services import part_save
from governance.management.commands.load_demo import demo_password
from plans.exports.importer import ImportStale, import_apply, import_pending, import_preview
from plans.exports.reader import WorkbookRefused
from plans.exports.service import plan_export_xlsx
from plans.models import Area, Part
from plans.services import plan_current_round, plan_open
from plans.template import Metrics

REQUEST = RequestFactory().post("/", REMOTE_ADDR="10.0.0.4")


@pytest.fixture
def demo(drafting_demo, db):
    """The demo with every plan in Drafting, so that any of them can be edited and imported."""


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


def answer_replaced(data: bytes, sheet: str, label: str, text: str) -> bytes:
    """The workbook with an answer replaced whole, as a person would: typed over its first
    cell, and the rows a long answer goes on in below it emptied."""
    book = load_workbook(BytesIO(data))
    ws = book[sheet]
    row = next(c.row for c in ws["A"] if c.value == label)
    ws.cell(row, 2).value = text
    while ws.cell(row + 1, 2).value and not ws.cell(row + 1, 1).value:
        row += 1
        ws.cell(row, 2).value = None
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
                "National Conditions",
                find(
                    commissioner_data, "National Conditions", "NHS Number is the primary identifier"
                ),
            ): "No",
            (
                "National Conditions",
                find(commissioner_data, "National Conditions", "NHS Number in place by"),
            ): None,
            (
                "National Conditions",
                find(commissioner_data, "National Conditions", "Commitment to the NHS Number"),
            ): None,
        },
    )
    # Saying No needs the commitment and date: the part's own checks, named by cell, while the
    # good change to Governance still previews.
    partial = import_preview(plan=plan, user=commissioner, data=data)
    assert [p.key for p in partial.parts] == ["governance"]
    [left] = partial.left_out
    assert any("National Conditions, cell B" in reason for reason in left.reasons)

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


def rewritten(data: bytes, name: str, change) -> bytes:
    """The workbook with one part of its zip rewritten by `change(text) -> text`."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            content = source.read(entry)
            if entry.filename == name:
                content = change(content.decode()).encode()
            target.writestr(entry, content)
    return out.getvalue()


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)
EXTERNAL = '<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'


def with_doctype(doctype: str, entity: str):
    def change(text: str) -> str:
        declaration = '<?xml version="1.0" encoding="UTF-8"?>'
        text = text.split("?>", 1)[1] if text.startswith("<?xml") else text
        text = re.sub(r"(<t[^>]*>)", rf"\1&{entity};", text, count=1)
        return f"{declaration}{doctype}{text}"

    return change


def refusal(plan, user, data) -> str:
    with pytest.raises(WorkbookRefused) as refused:
        import_preview(plan=plan, user=user, data=data)
    return " ".join(refused.value.messages)


def test_malicious_xml_and_foreign_workbooks_are_refused(demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    for doctype, entity in [(LAUGHS, "lol3"), (EXTERNAL, "secret")]:
        for name in ("xl/worksheets/sheet3.xml", "xl/workbook.xml"):
            bad = rewritten(data, name, with_doctype(doctype, entity))
            assert "XML we do not accept" in refusal(plan, commissioner, bad)
    other = demo_plan("plymouth")
    message = refusal(plan, commissioner, exported(other, person("plymouth-admin")))
    assert "not “Walsall" in message and "Plymouth" in message
    book = load_workbook(BytesIO(data))
    del book["Narrative"]
    out = BytesIO()
    book.save(out)
    assert "no “Narrative” sheet" in refusal(plan, commissioner, out.getvalue())
    csv = b"Scheme,Spend\nReablement,100\n"
    assert "not an Excel workbook" in refusal(plan, commissioner, csv)
    assert plan.imports.count() == 0


def test_bad_values_are_named_by_sheet_and_cell_and_change_nothing(demo):
    plan = demo_plan("walsall")
    finance = person("walsall-finance")
    data = exported(plan, finance)
    book = load_workbook(BytesIO(data))
    ws = book["Pooled fund contributions"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Partner")
    amount = ws.cell(row=header[0].row + 1, column=3)
    schemes = book["Pooled budget schemes"]
    scheme_header = next(r for r in schemes.iter_rows() if r[0].value == "Scheme")
    income = schemes.cell(row=scheme_header[0].row + 1, column=8)
    assert schemes.cell(row=scheme_header[0].row, column=8).value == "Income line"
    for sheet, cell, value, message in [
        ("Pooled fund contributions", amount.coordinate, -5, "Enter an amount of 0 or more"),
        (
            "Pooled fund contributions",
            amount.coordinate,
            2e10,
            "Enter an amount of £10,000,000,000",
        ),
        ("Pooled fund contributions", amount.coordinate, "lots", "Enter a number"),
        (
            "Pooled fund contributions",
            amount.coordinate,
            12.345,
            "Use no more than 2 decimal places",
        ),
        ("Pooled budget schemes", income.coordinate, "Maybe", "Enter Yes or No"),
    ]:
        text = refusal(plan, finance, edited(data, {(sheet, cell): value}))
        assert f"{sheet}, cell {cell}: {message}" in text
    assert plan.imports.count() == 0
    assert not Part.history.filter(history_change_reason__startswith="Imported").exists()


def test_a_plan_past_drafting_takes_no_import(demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    plan.state = "awaiting_signoff"
    plan.save()
    assert "cannot be changed" in refusal(plan, commissioner, data)


def test_formula_like_text_from_a_workbook_stays_text(demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    cell = find(data, "Narrative", "Governance")
    injected = '=HYPERLINK("http://evil.example","Click")'
    # Typed as text (as Excel keeps it after a leading apostrophe) it is imported as text...
    book = load_workbook(BytesIO(data))
    book["Narrative"][cell].value = injected
    book["Narrative"][cell].data_type = "s"
    out = BytesIO()
    book.save(out)
    preview = import_preview(plan=plan, user=commissioner, data=out.getvalue())
    import_apply(
        pending=import_pending(plan=plan, user=commissioner, preview=preview, file_name="x.xlsx"),
        user=commissioner,
    )
    assert plan.parts.get(key="governance").content["text"] == injected
    again = load_workbook(BytesIO(exported(plan, commissioner)))["Narrative"][cell]
    assert again.value == injected and again.data_type == "s"
    # ...and a real formula whose result was never saved is refused, not read as empty.
    text = refusal(plan, commissioner, edited(data, {("Narrative", cell): "=1+1"}))
    assert f"Narrative, cell {cell}: This cell holds a formula with no saved result" in text


def test_the_command_previews_on_a_dry_run_and_imports_without_one(demo, tmp_path):
    plan = demo_plan("walsall")
    data = exported(plan, None)
    path = tmp_path / "walsall.xlsx"
    path.write_bytes(edited(data, {("Narrative", find(data, "Narrative", "Governance")): "Joint"}))
    out = io.StringIO()
    call_command("import_plan", str(path), "--area", "walsall", "--dry-run", stdout=out)
    assert "Governance" in out.getvalue() and "{+Joint+}" in out.getvalue()
    assert "Dry run" in out.getvalue()
    assert plan.parts.get(key="governance").content["text"] != "Joint"
    call_command("import_plan", str(path), "--area", "walsall", stdout=io.StringIO())
    assert plan.parts.get(key="governance").content["text"] == "Joint"
    from django.core.management import CommandError

    (tmp_path / "bad.xlsx").write_bytes(b"nope")
    with pytest.raises(CommandError, match="not an Excel workbook"):
        call_command("import_plan", str(tmp_path / "bad.xlsx"), "--area", "walsall")


IMPORT = "/areas/walsall/plans/itf-2014/import/"


def upload(client, data: bytes, name="plan.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(IMPORT, {"workbook": SimpleUploadedFile(name, data)})


def test_upload_preview_and_confirm_in_the_browser_flow(
    client, demo, django_assert_max_num_queries
):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    data = edited(data, {("Narrative", find(data, "Narrative", "Governance")): "A joint board."})
    client.force_login(commissioner)
    assert b"Import an edited workbook" in client.get("/areas/walsall/plans/itf-2014/").content
    page = client.get(IMPORT)
    assert page.status_code == 200 and b'enctype="multipart/form-data"' in page.content
    response = upload(client, data)
    assert response.status_code == 302
    preview_url = response["Location"]
    with django_assert_max_num_queries(20):
        page = client.get(preview_url)
    assert b"Check the changes from plan.xlsx" in page.content
    assert b"<ins>joint</ins>" in page.content
    assert plan.parts.get(key="governance").content["text"] != "A joint board."
    # Another member of the area cannot see or confirm someone else's upload.
    client.force_login(person("walsall-ccg-commissioner"))
    assert client.get(preview_url).status_code == 404
    assert client.post(preview_url).status_code == 404
    client.force_login(commissioner)
    response = client.post(preview_url)
    assert response.status_code == 302
    assert plan.parts.get(key="governance").content["text"] == "A joint board."
    page = client.get(response["Location"])
    assert b"Imported plan.xlsx: 1 part changed." in page.content
    # The preview now says it was imported; confirming again changes nothing more.
    assert b"were imported on" in client.get(preview_url).content
    assert client.post(preview_url).status_code == 302


def test_upload_refusals_show_every_problem_and_change_nothing(client, demo):
    plan = demo_plan("walsall")
    client.force_login(person("walsall-commissioner"))
    response = client.post(IMPORT, {})
    assert response.status_code == 400 and b"Choose the workbook to upload." in response.content
    response = upload(client, b"hello", name="plan.csv")
    assert response.status_code == 400
    assert b"The workbook was not imported" in response.content
    assert b"not an Excel workbook" in response.content
    assert plan.imports.count() == 0


def test_only_people_who_may_edit_the_plan_may_import_and_only_their_area(client, demo):
    plan = demo_plan("walsall")
    data = exported(plan, None)
    client.force_login(person("walsall-reviewer"))
    assert client.get(IMPORT).status_code == 403
    assert upload(client, data).status_code == 403
    client.force_login(person("plymouth-admin"))
    assert client.get(IMPORT).status_code == 404
    assert upload(client, data).status_code == 404
    # A finance lead may import the fund's parts but not the narrative.
    client.force_login(person("walsall-finance"))
    changed = edited(data, {("Narrative", find(data, "Narrative", "Governance")): "Theirs"})
    response = upload(client, changed)
    assert response.status_code == 400
    assert "The workbook changes Governance (Narrative B" in response.content.decode()
    assert plan.imports.count() == 0


def test_a_part_saved_between_preview_and_confirm_stops_the_whole_import(client, demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    data = edited(
        data,
        {
            ("Narrative", find(data, "Narrative", "Governance")): "File governance",
            ("Narrative", find(data, "Narrative", "Vision for Health and Care Services")): "V",
        },
    )
    client.force_login(commissioner)
    preview_url = upload(client, data)["Location"]
    part = plan.parts.get(key="vision")
    part_save(
        part=part,
        content={"text": "Saved meanwhile"},
        status="in_progress",
        base_version=part.version,
        user=commissioner,
    )
    response = client.post(preview_url)
    assert response.status_code == 409
    assert b"nothing was imported" in response.content
    assert plan.parts.get(key="governance").content["text"] != "File governance"
    assert plan.parts.get(key="vision").content["text"] == "Saved meanwhile"


def test_the_import_form_needs_the_csrf_token(demo):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(person("walsall-commissioner"))
    assert upload(client, b"x").status_code == 403


def test_a_workbook_saved_by_libreoffice_comes_back_with_only_its_edits(demo, tmp_path):
    from tests.libreoffice import recalculated

    plan = demo_plan("plymouth")
    admin = person("plymouth-admin")
    data = exported(plan, admin)
    unedited, edited_path = tmp_path / "unedited.xlsx", tmp_path / "edited.xlsx"
    unedited.write_bytes(data)
    edited_path.write_bytes(
        answer_replaced(data, "Narrative", "Governance", "Saved by LibreOffice")
    )
    out = recalculated([unedited, edited_path], tmp_path)
    preview = import_preview(plan=plan, user=admin, data=(out / "unedited.xlsx").read_bytes())
    assert preview.parts == [] and preview.notices == []  # the export's id survived the save
    commissioner = person("plymouth-commissioner")
    preview = import_preview(plan=plan, user=commissioner, data=(out / "edited.xlsx").read_bytes())
    assert [p.key for p in preview.parts] == ["governance"]
    assert preview.parts[0].content["text"] == "Saved by LibreOffice"


def test_damaged_protected_and_oversized_files_are_refused_not_crashed(demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    # Bytes flipped inside a sheet's packed data: zlib fails part-way through.
    with zipfile.ZipFile(BytesIO(data)) as archive:
        entry = archive.getinfo("xl/worksheets/sheet3.xml")
    start = entry.header_offset + 30 + len(entry.filename) + len(entry.extra) + 20
    damaged = data[:start] + bytes(b ^ 0x5A for b in data[start : start + 20]) + data[start + 20 :]
    assert "damaged" in refusal(plan, commissioner, damaged)
    assert "password-protected" in refusal(plan, commissioner, b"\xd0\xcf\x11\xe0" + b"\0" * 600)
    # One enormous row: refused while the file is unpacked, before openpyxl builds it.
    book = load_workbook(BytesIO(data))
    for column in range(1, 400):
        book["Cover"].cell(row=3, column=column, value=1)
    out = BytesIO()
    book.save(out)
    assert "unpacks to far more than a plan's workbook" in refusal(
        plan, commissioner, out.getvalue()
    )


def test_cells_below_a_total_or_beside_a_table_are_named_not_dropped(demo):
    plan = demo_plan("walsall")
    finance = person("walsall-finance")
    data = exported(plan, finance)
    total = find(data, "Pooled budget schemes", "Total", 0)
    below = f"A{int(total[1:]) + 1}"
    text = refusal(plan, finance, edited(data, {("Pooled budget schemes", below): "New scheme"}))
    assert f"Pooled budget schemes, cell {below}: this is below the table's Total row" in text
    first_scheme = find(data, "Pooled budget schemes", "Scheme", 0)
    beside = f"Z{int(first_scheme[1:]) + 1}"
    text = refusal(plan, finance, edited(data, {("Pooled budget schemes", beside): "note"}))
    assert f"cell {beside}: this is outside the table's columns" in text


def test_a_scheme_called_total_and_odd_text_round_trip_unchanged(demo):
    plan = demo_plan("walsall")
    finance, commissioner = person("walsall-finance"), person("walsall-commissioner")
    schemes = plan.parts.get(key="schemes")
    rows = schemes.content["rows"]
    rows[1]["name"] = "Total"
    part_save(
        part=schemes,
        content={**schemes.content, "rows": rows},
        status="in_progress",
        base_version=schemes.version,
        user=finance,
    )
    governance = plan.parts.get(key="governance")
    part_save(
        part=governance,
        content={"text": "Line one\x0bline two\x07"},
        status="in_progress",
        base_version=governance.version,
        user=commissioner,
    )
    preview = import_preview(plan=plan, user=finance, data=exported(plan, finance))
    assert preview.parts == []


def test_positional_rows_moved_in_the_portal_since_the_export_are_refused(demo):
    plan = demo_plan("walsall")
    finance = person("walsall-finance")
    data = exported(plan, finance)
    schemes = plan.parts.get(key="schemes")
    part_save(
        part=schemes,
        content={**schemes.content, "rows": schemes.content["rows"][1:]},
        status="in_progress",
        base_version=schemes.version,
        user=finance,
    )
    book = load_workbook(BytesIO(data))
    ws = book["Pooled budget schemes"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Scheme")
    cell = ws.cell(row=header[0].row + 2, column=4).coordinate  # the second scheme's provider
    text = refusal(plan, finance, edited(data, {("Pooled budget schemes", cell): "Someone new"}))
    assert "rows of this table were added, removed or renamed in the portal" in text


def test_an_income_line_is_marked_yes_and_its_amount_is_never_negative(demo):
    plan = demo_plan("plymouth")
    finance = person("plymouth-finance")
    data = exported(plan, finance)
    book = load_workbook(BytesIO(data))
    ws = book["Pooled budget schemes"]
    income = next(r for r in ws.iter_rows() if r[7].value == "Yes")
    spend = next(c for c in income[8:12] if c.value)
    text = refusal(plan, finance, edited(data, {("Pooled budget schemes", spend.coordinate): -5}))
    assert f"cell {spend.coordinate}: Enter an amount of 0 or more" in text
    # Marking it No makes it spend again.
    preview = import_preview(
        plan=plan,
        user=finance,
        data=edited(data, {("Pooled budget schemes", income[7].coordinate): "No"}),
    )
    [change] = preview.parts[0].changes
    assert change.label.endswith(": Income line")


def test_a_local_measure_named_like_a_national_one_keeps_its_own_row(demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    metrics = plan.parts.get(key="metrics")
    rows = [
        *Metrics.rows_shown(metrics.content),
        {
            "name": "Emergency admissions",
            "national": False,
            "unit": "",
            "baseline": "77",
            "baseline_date": "",
            "projections": {},
        },
    ]
    part_save(
        part=metrics,
        content={**metrics.content, "rows": rows},
        status="in_progress",
        base_version=metrics.version,
        user=commissioner,
    )
    data = exported(plan, commissioner)
    names = [
        r[0]
        for r in load_workbook(BytesIO(data))["Outcomes and metrics"].iter_rows(values_only=True)
    ]
    assert names.count("Emergency admissions") == 2
    assert import_preview(plan=plan, user=commissioner, data=data).parts == []


def test_confirming_twice_says_it_is_done(client, demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    data = edited(data, {("Narrative", find(data, "Narrative", "Governance")): "Once"})
    client.force_login(commissioner)
    preview_url = upload(client, data)["Location"]
    assert client.post(preview_url).status_code == 302
    again = client.post(preview_url, follow=True)
    assert b"has already been imported" in again.content


def test_only_the_latest_upload_can_be_confirmed(client, demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    cell = find(data, "Narrative", "Governance")
    client.force_login(commissioner)
    first = upload(client, edited(data, {("Narrative", cell): "First"}))["Location"]
    second = upload(client, edited(data, {("Narrative", cell): "Second"}))["Location"]
    assert client.post(first).status_code == 404
    assert client.post(second).status_code == 302
    assert plan.parts.get(key="governance").content["text"] == "Second"


def test_a_scheme_type_is_one_of_the_templates_or_other_with_a_description(demo):
    plan = demo_plan("walsall")
    finance = person("walsall-finance")
    data = exported(plan, finance)
    ws = load_workbook(BytesIO(data))["Pooled budget schemes"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Scheme")
    cell = ws.cell(row=header[0].row + 1, column=2).coordinate
    text = refusal(plan, finance, edited(data, {("Pooled budget schemes", cell): "Reablment"}))
    assert f"cell {cell}: “Reablment” is not a choice for Scheme type. Choose one of: " in text
    described = ws.cell(row=header[0].row + 1, column=3).coordinate
    text = refusal(
        plan, finance, edited(data, {("Pooled budget schemes", cell): "Other, please describe"})
    )
    assert f"cell {described}: Describe the scheme type." in text
    changed = edited(
        data,
        {
            ("Pooled budget schemes", cell): "Other, please describe",
            ("Pooled budget schemes", described): "Falls prevention",
        },
    )
    preview = import_preview(plan=plan, user=finance, data=changed)
    [row] = [r for r in preview.parts[0].content["rows"][:1]]
    assert (row["scheme_type"], row["scheme_type_other"]) == ("other", "Falls prevention")
    assert "Scheme 1 (" in preview.parts[0].changes[0].label  # rows are named in the preview


def test_an_upload_just_over_5_mb_is_stopped_and_named_on_the_form(client, demo):
    client.force_login(person("walsall-commissioner"))
    response = upload(client, b"x" * (5 * 1024 * 1024 + 100), name="huge.xlsx")
    assert response.status_code == 400
    assert b"larger than 5 MB" in response.content
    assert demo_plan("walsall").imports.count() == 0


def test_a_request_far_over_5_mb_is_refused_before_it_is_read(client, demo):
    client.force_login(person("walsall-commissioner"))
    response = upload(client, b"x" * (6 * 1024 * 1024), name="huge.xlsx")
    assert response.status_code == 413
    assert b"The file is too large" in response.content
    assert demo_plan("walsall").imports.count() == 0


def test_the_preview_shows_amounts_in_pounds(demo):
    plan = demo_plan("walsall")
    finance = person("walsall-finance")
    data = exported(plan, finance)
    ws = load_workbook(BytesIO(data))["Pooled budget schemes"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Scheme")
    cell = ws.cell(row=header[0].row + 1, column=9)
    preview = import_preview(
        plan=plan,
        user=finance,
        data=edited(data, {("Pooled budget schemes", cell.coordinate): 1234.5}),
    )
    [change] = preview.parts[0].changes
    assert "<ins>£1,234.50</ins>" in change.html


def test_a_percentage_typed_as_12_percent_is_12(demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    label = "Proportion of the adult population at high risk of hospital admission, as a percentage"
    cell = find(data, "National Conditions", label)
    book = load_workbook(BytesIO(data))
    book["National Conditions"][cell].value = 0.12  # what a spreadsheet stores for "12%"
    book["National Conditions"][cell].number_format = "0%"
    out = BytesIO()
    book.save(out)
    preview = import_preview(plan=plan, user=commissioner, data=out.getvalue())
    [part] = preview.parts
    assert Decimal(part.content["high_risk_percent"]) == 12


def test_a_sealed_export_edited_after_the_plan_is_reopened_imports_against_the_seal(demo):
    from governance.signoff import plan_reopen, plan_submit_for_signoff
    from tests.factories import plan_make_ready

    plan = demo_plan("devon")
    commissioner, admin = person("devon-commissioner"), person("devon-admin")
    plan_make_ready(plan, commissioner)
    plan_submit_for_signoff(plan=plan, user=commissioner)
    plan.refresh_from_db()
    data = exported(plan, commissioner)  # the sealed version, its seal on every sheet
    assert "Seal: " in str(load_workbook(BytesIO(data))["Cover"]["B2"].value)
    assert "cannot be changed" in refusal(plan, commissioner, data)
    plan_reopen(
        password=demo_password(),
        request=REQUEST,
        plan=plan,
        user=admin,
        reason="The board asked for changes",
    )
    plan.refresh_from_db()
    preview = import_preview(
        plan=plan,
        user=commissioner,
        data=answer_replaced(data, "Narrative", "Governance", "After the board"),
    )
    assert [(p.key, p.conflict) for p in preview.parts] == [("governance", "")]


def test_related_documents_and_the_funds_arrangements_go_out_and_come_back(demo):
    plan = demo_plan("walsall")
    commissioner, finance = person("walsall-commissioner"), person("walsall-finance")
    data = exported(plan, commissioner)
    ws = load_workbook(BytesIO(data))["Narrative"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Title")
    title, url = (c.coordinate for c in ws[header[0].row + 1][:2])
    changed = edited(
        data,
        {("Narrative", title): "Joint strategy", ("Narrative", url): "https://example.org/js"},
    )
    preview = import_preview(plan=plan, user=commissioner, data=changed)
    [part] = preview.parts
    assert part.key == "related_documents"
    assert part.content["rows"][-1] == {"title": "Joint strategy", "url": "https://example.org/js"}
    bad = edited(data, {("Narrative", title): "Joint strategy", ("Narrative", url): "ftp://x"})
    assert f"Narrative, cell {url}: Enter a web address" in refusal(plan, commissioner, bad)

    data = exported(plan, finance)
    ccg = plan.area.partners.get(kind="ccg")
    changed = edited(
        data,
        {
            ("Pooled fund arrangements", find(data, "Pooled fund arrangements", "Host partner")): (
                ccg.name
            ),
            (
                "Pooled fund arrangements",
                find(data, "Pooled fund arrangements", "Pooled fund manager"),
            ): "A. Manager, Head of Joint Commissioning",
        },
    )
    [part] = import_preview(plan=plan, user=finance, data=changed).parts
    assert (part.content["host_partner"], part.content["host_partner_name"]) == (ccg.pk, ccg.name)
    assert part.content["fund_manager"] == "A. Manager, Head of Joint Commissioning"
    cell = find(data, "Pooled fund arrangements", "Host partner")
    text = refusal(plan, finance, edited(data, {("Pooled fund arrangements", cell): "Nobody"}))
    assert f"Pooled fund arrangements, cell {cell}: “Nobody” is not a partner in this plan." in text


def test_a_national_measures_name_cannot_be_changed_in_the_workbook(demo):
    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    data = exported(plan, commissioner)
    cell = find(data, "Outcomes and metrics", "Delayed transfers of care", 0)
    text = refusal(
        plan, commissioner, edited(data, {("Outcomes and metrics", cell): "Something else"})
    )
    assert f"Outcomes and metrics, cell {cell}: this cell cannot be changed" in text


def first_scheme_spend(data: bytes):
    """The first scheme's first-year spend cell of an exported workbook."""
    ws = load_workbook(BytesIO(data))["Pooled budget schemes"]
    header = next(r for r in ws.iter_rows() if r[0].value == "Scheme")
    spend = next(c for c in header if str(c.value).endswith("spend"))
    return ws.cell(row=header[0].row + 1, column=spend.column)


def test_a_workbook_both_authors_edited_is_imported_by_each_for_their_own_parts(demo, client):
    """The commissioner changes the narrative and the finance lead a scheme's spend, in one
    file. Each imports it: their own part goes in; the other's is named as left for them, and
    once it is in the plan it is not mentioned again."""
    plan = demo_plan("walsall")
    commissioner, finance = person("walsall-commissioner"), person("walsall-finance")
    data = exported(plan, commissioner)
    first = first_scheme_spend(data)
    both = edited(
        data,
        {
            ("Narrative", find(data, "Narrative", "Governance")): "A joint board, monthly.",
            ("Pooled budget schemes", first.coordinate): float(first.value) + 1000,
        },
    )
    preview = import_preview(plan=plan, user=commissioner, data=both)
    assert [p.key for p in preview.parts] == ["governance"]
    [left] = preview.left_out
    assert left.key == "schemes"
    assert "they can import this same workbook" in left.reasons[0]
    pending = import_pending(plan=plan, user=commissioner, preview=preview, file_name="both.xlsx")
    client.force_login(commissioner)
    page = client.get(f"/areas/walsall/plans/itf-2014/import/{pending.pk}/").content.decode()
    assert "Not imported by you" in page and "ITF Investment" in page
    import_apply(pending=pending, user=commissioner)

    preview = import_preview(plan=plan, user=finance, data=both)
    assert [p.key for p in preview.parts] == ["schemes"]
    assert preview.left_out == []  # the narrative is already in the plan
    import_apply(
        pending=import_pending(plan=plan, user=finance, preview=preview, file_name="both.xlsx"),
        user=finance,
    )
    assert plan.parts.get(key="governance").content["text"] == "A joint board, monthly."


def test_a_bad_cell_is_named_while_the_good_changes_still_preview(demo):
    plan = demo_plan("walsall")
    finance = person("walsall-finance")
    data = exported(plan, finance)
    first = first_scheme_spend(data)
    contributions = load_workbook(BytesIO(data))["Pooled fund contributions"]
    grid = next(r for r in contributions.iter_rows() if r[0].value == "Partner")
    amount = contributions.cell(row=grid[0].row + 1, column=3)
    data = edited(
        data,
        {
            ("Pooled budget schemes", first.coordinate): float(first.value) + 1000,
            ("Pooled fund contributions", amount.coordinate): "lots",
        },
    )
    preview = import_preview(plan=plan, user=finance, data=data)
    assert [p.key for p in preview.parts] == ["schemes"]
    [left] = preview.left_out
    assert left.key == "contributions"
    assert f"Pooled fund contributions, cell {amount.coordinate}: Enter a number" in left.reasons[0]


def test_a_long_answer_over_several_rows_comes_back_whole_with_its_edits(demo):
    """An answer longer than a row holds goes on in the rows below its label: an edit to any of
    them changes only the words edited, and a line typed into a row inserted below an answer is
    a new paragraph of it."""
    from plans.exports.reader import read_workbook

    plan = demo_plan("walsall")
    commissioner = person("walsall-commissioner")
    paragraphs = [f"Paragraph {n}: the Integration Board meets monthly. " * 9 for n in range(20)]
    long = "\n".join(paragraphs)
    governance = plan.parts.get(key="governance")
    part_save(
        part=governance,
        content={"text": long},
        status="in_progress",
        base_version=governance.version,
        user=commissioner,
    )
    data = exported(plan, commissioner)
    assert import_preview(plan=plan, user=commissioner, data=data).parts == []
    ws = load_workbook(BytesIO(data))["Narrative"]
    start = next(c.row for c in ws["A"] if c.value == "Governance")
    second = ws.cell(start + 1, 2).value
    assert ws.cell(start + 1, 1).value is None and second and second != long
    changed = edited(
        data, {("Narrative", f"B{start + 1}"): second.replace("Paragraph", "Section", 1)}
    )
    [part] = import_preview(plan=plan, user=commissioner, data=changed).parts
    assert part.key == "governance"
    years = plan.round.year_labels
    read = read_workbook(changed, years=years, baseline="2013/14")
    assert read.values[("Narrative", "Governance")][0] == long.replace(
        second, second.replace("Paragraph", "Section", 1)
    )

    book = load_workbook(BytesIO(data))
    vision = next(
        c.row for c in book["Narrative"]["A"] if c.value == "Vision for Health and Care Services"
    )
    answer = book["Narrative"].cell(vision, 2).value
    book["Narrative"].insert_rows(vision + 1)
    book["Narrative"].cell(vision + 1, 2).value = "A further paragraph."
    out = BytesIO()
    book.save(out)
    read = read_workbook(out.getvalue(), years=years, baseline="2013/14")
    assert read.values[("Narrative", "Vision for Health and Care Services")][0] == (
        f"{answer}\nA further paragraph."
    )
