import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from governance.management.commands.load_demo import demo_password
from plans.models import Part
from tests.browser.conftest import axe_violations, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PLAN = "/areas/walsall/plans/itf-2014/"


@pytest.fixture
def demo(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


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
    violations += axe_violations(page)
    text = Part.objects.get(plan__area__slug="walsall", key="governance").content["text"]
    assert text != "A joint commissioning board, meeting monthly."
    page.get_by_role("button", name="Import these changes").click()
    page.wait_for_url(f"**{PLAN}")
    assert "Imported walsall.xlsx: 1 part changed." in page.content()
    text = Part.objects.get(plan__area__slug="walsall", key="governance").content["text"]
    assert text == "A joint commissioning board, meeting monthly."
    assert violations == []
