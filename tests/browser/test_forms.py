"""Nothing a person types is lost: the date input, the character count, the error summary's
links and the risk-share calculator, in the browser, each page checked with axe."""

import pytest
from playwright.sync_api import expect

from governance.management.commands.load_demo import demo_password
from plans.models import Part, Plan
from tests.browser.conftest import axe_violations, fill_date, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PLAN = "/areas/southampton/plans/itf-2014/"


def test_an_impossible_date_is_kept_and_its_summary_link_focuses_the_day(page, demo):
    sign_in(page, "southampton-commissioner", demo_password())
    page.goto(PLAN + "parts/data_sharing/")
    page.get_by_role("group", name="Please confirm that you are using the NHS Number").get_by_label(
        "No", exact=True
    ).check()
    fill_date(page, "NHS Number in place by", "31", "2", "2014")
    page.get_by_role("button", name="Save", exact=True).click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("NHS Number in place by must be a real date.")
    group = page.get_by_role("group", name="NHS Number in place by")
    assert [group.get_by_label(part).input_value() for part in ("Day", "Month", "Year")] == [
        "31",
        "2",
        "2014",
    ]
    violations = axe_violations(page)
    summary.get_by_role("link", name="NHS Number in place by must be a real date.").click()
    expect(group.get_by_label("Day")).to_be_focused()
    assert violations == []


def test_the_character_count_shows_what_is_left_and_a_long_answer_is_kept(page, demo):
    sign_in(page, "southampton-commissioner", demo_password())
    page.goto(PLAN + "parts/vision/")
    answer = page.get_by_label("Your answer")
    assert answer.get_attribute("maxlength") is None
    answer.fill("x" * 9_990)
    count = page.locator(".nhsuk-character-count", has=answer).locator(
        ".nhsuk-character-count__status"
    )
    expect(count).to_have_text("You have 10 characters remaining")
    violations = axe_violations(page)
    long = "Care close to home. " * 5_000  # 100,000 characters: nothing may cut it short
    answer.fill(long)
    expect(count).to_have_text("You have 90,000 characters too many")
    assert answer.input_value() == long
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "must be 10,000 characters or fewer"
    )
    assert page.get_by_label("Your answer").input_value() == long
    violations += axe_violations(page)
    assert (
        Part.objects.get(plan__area__slug="southampton", key="vision").content.get("text") != long
    )
    page.get_by_label("Add a comment").click()
    expect(page.get_by_label("Add a comment")).to_be_focused()
    assert violations == []


def test_a_refused_decline_opens_its_section_and_the_summary_link_reaches_it(page, demo):
    from tests.factories import plan_make_ready

    plan_make_ready(Plan.objects.get(area__slug="devon"), None)
    base = "/areas/devon/plans/itf-2014/"
    commissioner = page
    sign_in(commissioner, "devon-commissioner", demo_password())
    commissioner.goto(base + "check/")
    commissioner.get_by_role("button", name="Submit for sign-off").click()
    commissioner.wait_for_url(f"**{base}")
    commissioner.context.clear_cookies()
    sign_in(page, "devon-la-signatory", demo_password())
    page.goto(base + "sign-off/")
    page.get_by_text("Decline to sign for Devon County Council").click()
    page.get_by_label("Why are you declining?").fill("The contingency figures are not agreed.")
    page.get_by_role("button", name="Decline").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter your password to decline.")
    details = page.locator("details.nhsuk-details")
    expect(details).to_have_attribute("open", "")
    assert (
        page.get_by_label("Why are you declining?").input_value()
        == "The contingency figures are not agreed."
    )
    violations = axe_violations(page)
    summary.get_by_role("link", name="Enter your password to decline.").click()
    expect(page.get_by_label("Your password, to confirm you decline")).to_be_focused()
    assert violations == []


def test_the_calculator_uses_the_shares_on_screen_and_keeps_every_edit(page, demo):
    sign_in(page, "southampton-finance", demo_password())
    page.goto(PLAN + "parts/arrangements/")
    before = Part.objects.get(plan__area__slug="southampton", key="arrangements").version
    page.get_by_label("Agreed shares, set below").check()
    shares = page.get_by_label("share of over- and under-spends, as a percentage")
    shares.nth(0).fill("40")
    shares.nth(1).fill("60")
    page.get_by_label("If the pool over-spends by (£)").fill("1,000,000")
    page.get_by_role("button", name="Work it out").click()
    table = page.get_by_test_id("risk-share")
    expect(table).to_contain_text("£400,000")
    expect(table).to_contain_text("£600,000")
    assert "parts/arrangements/" in page.url  # the part's page, never reloaded
    assert shares.nth(0).input_value() == "40" and shares.nth(1).input_value() == "60"
    violations = axe_violations(page)
    page.get_by_label("If the pool over-spends by (£)").fill("lots")
    page.get_by_role("button", name="Work it out").click()
    expect(page.locator("#overspend-error")).to_contain_text("Enter an amount in pounds")
    expect(page.get_by_label("If the pool over-spends by (£)")).to_be_focused()
    violations += axe_violations(page)
    assert Part.objects.get(plan__area__slug="southampton", key="arrangements").version == before
    assert violations == []


def test_the_contributions_table_keeps_room_for_a_typed_amount_beside_an_error(page, demo):
    sign_in(page, "southampton-finance", demo_password())
    page.goto(PLAN + "parts/contributions/")
    cells = page.locator("input.app-money-input")
    cells.nth(0).fill("3,971,000.00")
    cells.nth(1).fill("not an amount")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    for index in (0, 1):
        cell = page.locator("input.app-money-input").nth(index)
        assert cell.evaluate("input => input.scrollWidth <= input.clientWidth")
        assert cell.bounding_box()["width"] >= 100
    violations = axe_violations(page)
    assert violations == []
