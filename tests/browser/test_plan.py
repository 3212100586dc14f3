import pytest
from playwright.sync_api import expect

from governance.management.commands.load_demo import demo_password
from plans.models import Part
from tests.browser.conftest import axe_violations, fill_date, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PLAN = "/areas/southampton/plans/itf-2014/"


def test_a_commissioner_completes_a_part_and_the_task_list_shows_it(page, demo):
    plan = "/areas/rotherham/plans/itf-2014/"
    sign_in(page, "rotherham-commissioner", demo_password())
    page.goto(plan)
    violations = axe_violations(page)
    before = page.get_by_test_id("progress").inner_text()
    page.get_by_role("link", name="Patient, service user and public engagement").click()
    page.wait_for_url(f"**{plan}parts/public_engagement/")
    violations += axe_violations(page)
    page.get_by_label("Your answer").fill("We held six listening events with Healthwatch.")
    page.get_by_label("Yes, mark it as complete").check()
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**{plan}")
    assert "Patient, service user and public engagement saved (complete)" in page.content()
    complete_before = int(before.split()[0])
    assert page.get_by_test_id("progress").inner_text().startswith(f"{complete_before + 1} of")
    status = page.locator("#public_engagement-status").inner_text()
    assert status.strip() == "Complete"
    page.goto(plan + "parts/public_engagement/history/")
    assert "listening events" in page.content()
    violations += axe_violations(page)
    assert violations == []


def test_two_people_editing_at_once_get_the_conflict_page_and_lose_nothing(new_page, demo):
    alice, bob = new_page(), new_page()
    sign_in(alice, "southampton-commissioner", demo_password())
    sign_in(bob, "southampton-ccg-commissioner", demo_password())
    alice.clock.install()
    with alice.expect_response("**/presence/"):  # her page says it is open, once it has loaded
        alice.goto(PLAN + "parts/vision/")
    bob.goto(PLAN + "parts/vision/")
    assert "Southampton LA commissioner" in bob.get_by_test_id("presence").inner_text()
    alice.clock.fast_forward(21_000)  # the page's 20-second refresh
    expect(alice.get_by_test_id("presence")).to_contain_text("CCG commissioner")
    alice.get_by_label("Your answer").fill("Alice's vision: care at home.")
    alice.get_by_role("button", name="Save", exact=True).click()
    alice.wait_for_url(f"**{PLAN}")
    bob.get_by_label("Your answer").fill("Bob's vision: care in the community.")
    bob.get_by_role("button", name="Save", exact=True).click()
    assert "while you were editing it" in bob.content()
    assert bob.get_by_label("Your answer").input_value() == "Bob's vision: care in the community."
    diff = bob.get_by_test_id("conflict-diff")
    assert diff.locator("del").first.inner_text() == "Alice's"
    assert "home." in diff.locator("del").all_inner_texts()
    violations = axe_violations(bob)
    bob.get_by_label("Your answer").fill("Care at home and in the community.")
    bob.get_by_role("button", name="Save", exact=True).click()
    bob.wait_for_url(f"**{PLAN}")
    part = Part.objects.get(plan__area__slug="southampton", key="vision")
    assert part.content["text"] == "Care at home and in the community."
    assert violations == []


def test_a_reviewer_comments_and_sees_the_part_read_only(page, demo):
    sign_in(page, "southampton-reviewer", demo_password())
    page.goto(PLAN + "parts/governance/")
    assert page.get_by_role("button", name="Save", exact=True).count() == 0
    page.get_by_label("Add a comment").fill("Who chairs the task and finish group?")
    page.get_by_role("button", name="Post comment").click()
    assert page.get_by_test_id("comment").count() == 1
    violations = axe_violations(page)
    page.goto(PLAN)
    assert "1 open comment" in page.content()
    page.goto(PLAN + "parts/vision/history/")  # filled by the demo, with no signed-in author
    assert page.get_by_test_id("history-entry").count() == 1
    assert "Demo content from the source papers" in page.content()
    violations += axe_violations(page)
    assert violations == []


def test_a_finance_lead_enters_contributions_and_sees_the_totals(page, demo):
    """Rotherham's demo pool holds the CCG's £20m for 2015/16; its finance lead adds three
    more amounts, one of them wrong at first."""
    plan = "/areas/rotherham/plans/itf-2014/"
    council, ccg = "Rotherham Metropolitan Borough Council", "NHS Rotherham CCG"
    sign_in(page, "rotherham-finance", demo_password())
    page.goto(plan + "parts/contributions/")
    violations = axe_violations(page)
    page.get_by_label(f"{council}, Capital, of which Disabled Facilities Grant, 2015/16").fill(
        "2,000,000"
    )
    page.get_by_label(f"{ccg}, CCG reablement, 2015/16").fill("£1,710,000")
    page.get_by_label(f"{ccg}, Carers' breaks, 2015/16").fill("-3")
    page.get_by_role("button", name="Save", exact=True).click()
    assert "There is a problem" in page.content()
    violations += axe_violations(page)
    page.get_by_label(f"{ccg}, Carers' breaks, 2015/16").fill("740,000")
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(f"**{plan}")
    page.goto(plan + "parts/contributions/")
    budget = page.get_by_test_id("pooled-budget").all_inner_texts()
    assert budget == ["£0", "£24,450,000"]
    violations += axe_violations(page)
    page.goto(plan + "parts/summary/")
    assert "£24,450,000" in page.content()
    page.goto(plan + "finance/")
    chart = page.get_by_role("img", name="Contributions 2015/16, by partner and stream")
    assert chart.locator("rect").count() == 5
    assert "£2,000,000" in chart.text_content()
    violations += axe_violations(page)
    assert violations == []


def test_every_pooled_fund_page_is_accessible(new_page, demo):
    page = new_page()
    sign_in(page, "plymouth-finance", demo_password())
    violations = []
    for key in ["contributions", "arrangements", "schemes", "spend", "contingency"]:
        page.goto(f"/areas/plymouth/plans/itf-2014/parts/{key}/")
        violations += axe_violations(page)
    page.goto("/areas/plymouth/plans/itf-2014/risk-share/?overspend=26,742,000")
    assert page.get_by_test_id("risk-share").is_visible()
    violations += axe_violations(page)
    page.goto("/areas/plymouth/plans/itf-2014/finance/")
    assert "plan to spend £26,742,000 more than the pooled budget" in page.content()
    violations += axe_violations(page)
    reader = new_page()
    sign_in(reader, "plymouth-reviewer", demo_password())
    reader.goto("/areas/plymouth/plans/itf-2014/parts/schemes/")
    violations += axe_violations(reader)
    admin = new_page()
    sign_in(admin, "national-admin", demo_password())
    admin.goto("/allocations/")
    violations += axe_violations(admin)
    assert violations == []


def test_a_finance_lead_finds_changes_and_adds_a_scheme_without_scrolling_past_the_others(
    new_page, demo
):
    plan = "/areas/plymouth/plans/itf-2014/parts/schemes/"
    page = new_page()
    sign_in(page, "plymouth-finance", demo_password())
    page.goto(plan)
    overview = page.get_by_test_id("rows-overview")
    expect(overview).to_be_visible()
    assert page.locator("input[name^='rows-']").count() == 0  # no form of every scheme
    first = overview.locator("tbody a").first
    name, count = first.inner_text(), overview.locator("tbody a").count()
    first.click()
    page.wait_for_url(f"**{plan}rows/1/")
    violations = axe_violations(page)
    expect(page.get_by_label("Scheme", exact=True)).to_have_value(name)
    page.get_by_label("Provider").fill("Livewell Southwest")
    page.get_by_role("button", name="Save scheme").click()
    page.wait_for_url(f"**{plan}#row-1")
    assert "Scheme 1 saved." in page.content()
    violations += axe_violations(page)
    page.get_by_role("link", name="Add a scheme").click()
    page.wait_for_url(f"**{plan}rows/new/")
    page.get_by_role("button", name="Save scheme").click()
    assert "There is a problem" in page.content()  # a blank scheme is refused, and said why
    violations += axe_violations(page)
    page.get_by_label("Scheme", exact=True).fill("Falls response service")
    page.get_by_label("Scheme type").select_option(label="Other, please describe")
    page.get_by_label("If other, describe the type").fill("Falls response")
    page.get_by_label("Position in the table").fill("1")
    page.get_by_role("button", name="Save scheme").click()
    page.wait_for_url(f"**{plan}#row-1")
    assert overview.locator("tbody a").first.inner_text() == "Falls response service"
    assert overview.locator("tbody a").count() == count + 1
    page.goto(plan + "rows/2/remove/")
    assert name in page.content()  # the scheme that was first, now second
    violations += axe_violations(page)
    page.get_by_role("button", name="Remove scheme 2").click()
    page.wait_for_url(f"**{plan}")
    assert overview.locator("tbody a").first.inner_text() == "Falls response service"
    assert overview.locator("tbody a").count() == count
    assert violations == []


def test_the_sign_off_pages_are_accessible(new_page, demo):
    from plans.models import Plan
    from tests.factories import plan_make_ready

    walsall = Plan.objects.get(area__slug="walsall")
    plan_make_ready(walsall, None)
    page = new_page()
    sign_in(page, "walsall-commissioner", demo_password())
    page.goto("/areas/walsall/plans/itf-2014/check/")
    violations = axe_violations(page)
    page.get_by_role("button", name="Submit for sign-off").click()
    page.wait_for_url("**/areas/walsall/plans/itf-2014/")
    assert "Submitted for sign-off as sealed version 1" in page.content()
    assert "Awaiting sign-off" in page.content()
    violations += axe_violations(page)
    page.goto("/areas/walsall/plans/itf-2014/sealed/1/")
    violations += axe_violations(page)
    admin = new_page()
    sign_in(admin, "walsall-admin", demo_password())
    admin.goto("/areas/walsall/plans/itf-2014/milestones/")
    violations += axe_violations(admin)
    admin.goto("/")
    assert admin.get_by_test_id("attention").is_visible() or "Overdue" in admin.content()
    violations += axe_violations(admin)
    admin.goto("/areas/walsall/plans/itf-2014/reopen/")
    violations += axe_violations(admin)
    admin.get_by_label("Why are you reopening the plan?").fill("The board wants changes")
    admin.get_by_label("Password").fill(demo_password())
    admin.get_by_role("button", name="Reopen for editing").click()
    admin.wait_for_url("**/areas/walsall/plans/itf-2014/")
    assert "Reopened for editing by" in admin.get_by_test_id("timeline").inner_text()
    violations += axe_violations(admin)
    # Submitted again: the page comparing the two sealed versions.
    page.goto("/areas/walsall/plans/itf-2014/check/")
    page.get_by_role("button", name="Submit for sign-off").click()
    page.wait_for_url("**/areas/walsall/plans/itf-2014/")
    page.get_by_role("link", name="what changed since version 1").click()
    page.wait_for_url("**/sealed/1/compare/2/")
    violations += axe_violations(page)
    assert violations == []


def test_devon_goes_from_drafting_to_submitted_with_every_partner_in_the_browser(new_page, demo):
    from pathlib import Path

    from django.conf import settings as django_settings

    from plans.models import Plan

    shots = Path(django_settings.BASE_DIR) / "test-results" / "devon-sign-off"
    shots.mkdir(parents=True, exist_ok=True)
    base = "/areas/devon/plans/itf-2014/"
    violations = []

    commissioner = new_page()
    sign_in(commissioner, "devon-commissioner", demo_password())
    commissioner.goto(base + "check/")
    commissioner.get_by_role("button", name="Submit for sign-off").click()
    commissioner.wait_for_url(f"**{base}")
    commissioner.screenshot(path=shots / "1-submitted.png", full_page=True)

    partners = {
        "devon-la-signatory": "Devon County Council",
        "devon-ccg-signatory": "NHS Northern, Eastern and Western Devon CCG",
        "devon-ccg2-signatory": "NHS South Devon and Torbay CCG",
    }
    for step, (username, organisation) in enumerate(partners.items(), start=2):
        page = new_page()
        sign_in(page, username, demo_password())
        page.goto(base + "sign-off/")
        violations += axe_violations(page)
        page.get_by_label("Password", exact=True).fill(demo_password())
        page.get_by_label("Your position (job title)").fill("Accountable Officer")
        page.get_by_role("button", name=f"Sign on behalf of {organisation}").click()
        page.wait_for_url(f"**{base}sign-off/")
        assert f"Signed on behalf of {organisation}." in page.content()
        page.screenshot(path=shots / f"{step}-signed-{username}.png", full_page=True)
    assert page.get_by_test_id("state").inner_text() == "Signed by all partners"

    chair = new_page()
    sign_in(chair, "devon-chair", demo_password())
    chair.goto(base + "sign-off/")
    chair.get_by_label("Password").fill(demo_password())
    fill_date(chair, "Date agreed at Health and Well-Being Board", "22", "1", "2014")
    chair.get_by_role("button", name="Approve on behalf of the Health and Wellbeing Board").click()
    chair.wait_for_url(f"**{base}sign-off/")
    violations += axe_violations(chair)
    chair.screenshot(path=shots / "5-approved.png", full_page=True)

    admin = new_page()
    sign_in(admin, "devon-admin", demo_password())
    admin.goto(base + "sign-off/")
    fill_date(admin, "Date submitted", "14", "2", "2014")
    admin.get_by_role("button", name="Mark as submitted").click()
    admin.wait_for_url(f"**{base}sign-off/")
    assert admin.get_by_test_id("state").inner_text() == "Submitted"
    admin.screenshot(path=shots / "6-submitted.png", full_page=True)
    admin.goto(base + "parts/summary/")
    assert "22 January 2014" in admin.content() and "14 February 2014" in admin.content()
    admin.goto(base)
    timeline = admin.get_by_test_id("timeline").inner_text()
    for action in [
        "Submitted for sign-off",
        "Signed by every partner",
        "Approved",
        "Marked as submitted",
    ]:
        assert action in timeline
    violations += axe_violations(admin)
    seal = Plan.objects.get(area__slug="devon").seals.get().digest
    admin.goto(f"/verify/?seal={seal}")
    assert admin.get_by_test_id("verify-result").is_visible()
    violations += axe_violations(admin)
    assert len(list(shots.glob("*.png"))) == 6
    assert violations == []


def test_the_demo_as_run_shows_each_state_and_devons_second_ccg_signs_it(new_page, demo_as_run):
    """A newcomer sees every state without walking the journey: each area's plan page names its
    state, and Devon's second CCG signatory finds the plan waiting and signs it."""
    expected = {
        "rotherham": "Drafting",
        "devon": "Awaiting sign-off",
        "walsall": "Signed by all partners",
        "southampton": "Approved by the Health and Wellbeing Board",
        "plymouth": "Submitted",
    }
    page = new_page()
    sign_in(page, "national-admin", demo_password())
    page.goto("/")
    shown = page.get_by_test_id("plan-state").all_inner_texts()
    assert sorted(shown) == sorted(expected.values())  # each plan's state on the dashboard
    violations = axe_violations(page)
    for slug, state in expected.items():
        page = new_page()
        sign_in(page, f"{slug}-reviewer", demo_password())
        page.goto(f"/areas/{slug}/plans/itf-2014/sign-off/")
        assert page.get_by_test_id("state").inner_text() == state, slug
        violations += axe_violations(page)
    base = "/areas/devon/plans/itf-2014/"
    page = new_page()
    sign_in(page, "devon-ccg2-signatory", demo_password())
    page.goto(base + "sign-off/")
    violations += axe_violations(page)
    page.get_by_label("Password", exact=True).fill(demo_password())
    page.get_by_label("Your position (job title)").fill("Accountable Officer")
    organisation = "NHS South Devon and Torbay CCG"
    page.get_by_role("button", name=f"Sign on behalf of {organisation}").click()
    page.wait_for_url(f"**{base}sign-off/")
    assert f"Signed on behalf of {organisation}." in page.content()
    assert page.get_by_test_id("state").inner_text() == "Signed by all partners"
    assert violations == []


def test_a_checklist_with_checks_failing_links_to_what_each_person_can_fix(page, demo):
    plan = "/areas/rotherham/plans/itf-2014/"
    sign_in(page, "rotherham-commissioner", demo_password())
    page.goto(plan + "check/")
    violations = axe_violations(page)
    checks = page.get_by_test_id("checks")
    assert "Only a finance lead or the area admin can change this" in checks.inner_text()
    fix = checks.get_by_role("link", name="Go to the part to fix it").first
    fix.click()
    page.wait_for_url(f"**{plan}parts/**")
    violations += axe_violations(page)
    assert violations == []
