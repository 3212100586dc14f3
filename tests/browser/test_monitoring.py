import pytest
from playwright.sync_api import expect

from governance.management.commands.load_demo import demo_password
from tests.browser.conftest import axe_violations, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MONITORING = "/areas/plymouth/plans/itf-2014/monitoring/"


def test_a_pool_manager_records_a_quarter_and_the_partner_still_to_acknowledge_does_so(
    new_page, demo_as_run
):
    page = new_page()
    sign_in(page, "plymouth-finance", demo_password())
    page.goto(MONITORING)
    expect(page.get_by_test_id("notice")).to_contain_text(
        "A forecast over-spend of £26,742,000 in 2015/16"
    )
    violations = axe_violations(page)
    page.get_by_role("link", name="Quarter 3 of 2015/16 (October to December 2015)").click()
    page.wait_for_url(f"**{MONITORING}2015-16-q3/")
    page.get_by_label("Wellbeing: Spend to date").fill("13,000,000")
    page.get_by_label("Wellbeing: Forecast outturn").fill("12,000,000")
    page.get_by_role("button", name="Save the return").click()
    # Refused beside the field, with the typing kept, and linked from the error summary.
    expect(page.get_by_text("There is a problem")).to_be_visible()
    expect(page.get_by_label("Wellbeing: Forecast outturn")).to_have_value("12,000,000")
    violations += axe_violations(page)
    page.get_by_role("link", name="Wellbeing: The forecast outturn cannot be less").click()
    expect(page.get_by_label("Wellbeing: Forecast outturn")).to_be_focused()
    page.get_by_label("Wellbeing: Forecast outturn").fill("17,358,000")
    page.get_by_label("Commentary for the partners").fill("Wellbeing £200k over on winter.")
    page.get_by_role("button", name="Save the return").click()
    page.wait_for_url(f"**{MONITORING}")
    expect(page.get_by_text("return saved (version 1)")).to_be_visible()
    expect(page.get_by_test_id("overspend").last).to_have_text("An over-spend of £26,942,000")
    violations += axe_violations(page)

    other = new_page()
    sign_in(other, "plymouth-ccg-signatory", demo_password())
    expect(other.get_by_text("Acknowledge the Plymouth pool manager's notice")).to_be_visible()
    other.get_by_role("link", name="Acknowledge the Plymouth pool manager's notice").click()
    other.get_by_role("button", name="Acknowledge for NHS Northern").click()
    expect(other.get_by_text("Acknowledged for NHS Northern")).to_be_visible()
    violations += axe_violations(other)

    lead = new_page()
    sign_in(lead, "plymouth-ccg-finance", demo_password())
    lead.get_by_role("link", name="Confirm the Plymouth return for Quarter 2 of 2015/16").click()
    lead.get_by_role("button", name="Confirm the figures for NHS Northern").click()
    expect(lead.get_by_text("The figures are confirmed for NHS Northern")).to_be_visible()
    expect(lead.get_by_test_id("return-signoff")).to_contain_text("Not yet noted by the chair")
    lead.get_by_label("Add a comment").fill("Confirmed after the winter money came in.")
    lead.get_by_role("button", name="Post comment").click()
    expect(lead.get_by_test_id("return-comments")).to_contain_text("after the winter money")
    violations += axe_violations(lead)
    assert violations == []
