from io import BytesIO

import pytest
from openpyxl import load_workbook

from governance.management.commands.load_demo import demo_password
from plans.exports.national import TOTALS_LABEL
from plans.models import Part
from tests.browser.conftest import axe_violations, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PLAN = "/areas/walsall/plans/itf-2014/"


def test_a_commissioner_downloads_edits_and_imports_the_workbook(page, demo, tmp_path):
    sign_in(page, "walsall-commissioner", demo_password())
    page.goto(PLAN)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as the NHS England Excel template").click()
    path = tmp_path / "walsall.xlsx"
    download.value.save_as(path)
    book = load_workbook(path)
    narrative = book["Narrative"]
    row = next(r for r in narrative.iter_rows() if r[0].value == "Governance")
    row[1].value = "A joint commissioning board, meeting monthly."
    schemes = book["Pooled budget schemes"]  # the finance lead's part, edited in the same file
    header = next(r for r in schemes.iter_rows() if r[0].value == "Scheme")
    spend = next(c for c in header if str(c.value).endswith("spend"))
    schemes.cell(row=header[0].row + 1, column=spend.column).value = 1234
    book.save(path)

    page.get_by_role("link", name="Import an edited workbook").click()
    violations = axe_violations(page)
    page.get_by_role("button", name="Upload and preview the changes").click()
    assert "Choose the workbook to upload." in page.content()
    violations += axe_violations(page)
    bad = tmp_path / "notes.xlsx"
    bad.write_bytes(b"not really a workbook")
    page.get_by_label("Workbook").set_input_files(bad)
    page.get_by_role("button", name="Upload and preview the changes").click()
    assert "not an Excel workbook" in page.content()
    violations += axe_violations(page)

    page.get_by_label("Workbook").set_input_files(path)
    page.get_by_role("button", name="Upload and preview the changes").click()
    page.wait_for_url("**/import/*/")
    assert "Check the changes from walsall.xlsx" in page.content()
    assert len(page.get_by_test_id("import-part").all()) == 1
    left = page.get_by_test_id("import-left-out")  # the schemes, left for the finance lead
    assert "Not imported by you" in left.inner_text() and "ITF Investment" in left.inner_text()
    violations += axe_violations(page)
    text = Part.objects.get(plan__area__slug="walsall", key="governance").content["text"]
    assert text != "A joint commissioning board, meeting monthly."
    page.get_by_role("button", name="Import these changes").click()
    page.wait_for_url(f"**{PLAN}")
    assert "Imported walsall.xlsx: 1 part changed." in page.content()
    text = Part.objects.get(plan__area__slug="walsall", key="governance").content["text"]
    assert text == "A joint commissioning board, meeting monthly."
    assert violations == []


def test_a_national_admin_builds_the_composite_and_watches_it_finish(page, demo, worker_process):
    sign_in(page, "national-admin", demo_password())
    page.goto("/")
    page.get_by_role("link", name="Composite workbook of every area").click()
    violations = axe_violations(page)
    page.get_by_role("button", name="Build a new composite workbook").click()
    page.wait_for_url("**/national/composite/*/")
    download = page.get_by_role("link", name="Download the composite workbook")
    download.wait_for(state="visible", timeout=30_000)  # shown by the page's own polling
    assert "Ready: 5 areas." in page.get_by_test_id("composite-status").inner_text()
    violations += axe_violations(page)
    with page.expect_download() as workbook:
        download.click()
    book = load_workbook(BytesIO(workbook.value.path().read_bytes()))
    names = [row[0] for row in book["Areas"].iter_rows(min_row=2, values_only=True)]
    assert names == ["Devon", "Plymouth", "Rotherham", "Southampton", "Walsall", TOTALS_LABEL]
    page.goto("/national/composite/")
    assert "Ready (5 areas)" in page.content()
    violations += axe_violations(page)
    assert violations == []


def test_a_reviewer_asks_for_the_pdf_watches_it_print_and_downloads_it(page, demo, worker_process):
    sign_in(page, "walsall-reviewer", demo_password())
    page.goto(PLAN)
    page.get_by_role("link", name="Download as a PDF for board papers").click()
    page.wait_for_url("**/export.pdf")
    assert "The PDF of Walsall’s plan" in page.content()
    assert "Preparing the PDF" in page.get_by_test_id("print-status").inner_text()
    violations = axe_violations(page)
    download = page.get_by_role("link", name="Download the PDF")
    download.wait_for(state="visible", timeout=60_000)  # shown by the page's own polling
    assert page.get_by_test_id("print-status").inner_text() == "The PDF is ready."
    violations += axe_violations(page)
    with page.expect_download() as pdf:
        download.click()
    assert pdf.value.path().read_bytes().startswith(b"%PDF")
    assert pdf.value.suggested_filename == "itf-plan-walsall-itf-2014-draft.pdf"
    assert violations == []
