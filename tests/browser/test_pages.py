import pytest

from governance.management.commands.load_demo import demo_password
from governance.models import Membership
from tests.browser.conftest import axe_violations, sign_in
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_southampton_commissioner_sees_southampton_and_not_rotherham(page, demo):
    page.goto("/")
    assert "/accounts/login/" in page.url
    violations = axe_violations(page)
    sign_in(page, "southampton-commissioner", demo_password())
    page.wait_for_url("**/")
    table = page.get_by_test_id("area-table")
    assert table.get_by_role("link", name="Southampton", exact=True).is_visible()
    assert "Rotherham" not in page.content()
    assert "Southampton" in page.get_by_test_id("header-areas").inner_text()
    violations += axe_violations(page)
    table.get_by_role("link", name="Southampton", exact=True).click()
    page.wait_for_url("**/areas/southampton/")
    assert page.get_by_role("heading", name="Southampton", level=1).is_visible()
    assert "NHS Southampton City CCG" in page.content()
    violations += axe_violations(page)
    response = page.goto("/areas/rotherham/")
    assert response.status == 404
    violations += axe_violations(page)
    assert violations == []


def test_a_wrong_password_then_a_lockout_are_explained(page, demo):
    sign_in(page, "walsall-reviewer", "not-the-password")
    assert page.get_by_role("alert").is_visible()
    assert "There is a problem" in page.content()
    violations = axe_violations(page)
    for _ in range(4):
        sign_in(page, "walsall-reviewer", "not-the-password")
    assert "Too many failed sign-in attempts" in page.content()
    violations += axe_violations(page)
    assert violations == []


def test_an_area_admin_adds_and_removes_a_member(page, demo):
    sign_in(page, "devon-admin", demo_password())
    page.goto("/areas/devon/")
    page.get_by_role("link", name="Add a member").click()
    violations = axe_violations(page)
    page.get_by_role("button", name="Add member").click()  # empty form
    assert "There is a problem" in page.content()
    violations += axe_violations(page)
    page.get_by_label("Email address").fill("sam.ward@example.org")
    page.get_by_label("First name").fill("Sam")
    page.get_by_label("Last name").fill("Ward")
    page.get_by_label("On behalf of").select_option(label="NHS South Devon and Torbay CCG")
    page.get_by_label("Finance lead").check()
    page.get_by_role("button", name="Add member").click()
    page.wait_for_url("**/areas/devon/")
    assert "Sam Ward is now finance lead for NHS South Devon and Torbay CCG" in page.content()
    violations += axe_violations(page)
    page.get_by_role("link", name="Remove Sam Ward as finance lead").click()
    violations += axe_violations(page)
    page.get_by_role("button", name="Remove").click()
    page.wait_for_url("**/areas/devon/")
    assert not Membership.objects.filter(user__email="sam.ward@example.org").exists()
    assert violations == []


def test_national_admin_pages_and_the_other_roles_pages_are_accessible(new_page, demo):
    page = new_page()
    sign_in(page, "national-admin", demo_password())
    violations = axe_violations(page)
    for path in ["/organisations/", "/organisations/new/", "/areas/new/", "/areas/devon/edit/"]:
        page.goto(path)
        violations += axe_violations(page)
    page.goto("/areas/new/")
    page.get_by_role("button", name="Save area").click()
    assert "There is a problem" in page.content()
    violations += axe_violations(page)

    reviewer = new_page()
    sign_in(reviewer, "plymouth-reviewer", demo_password())
    for path in ["/accounts/password_change/", "/areas/plymouth/members/add/"]:
        reviewer.goto(path)
        violations += axe_violations(reviewer)
    assert "Only the area admin" in reviewer.content()

    UserFactory(username="newcomer", password="Newcomer-Pass-2014")
    newcomer = new_page()
    sign_in(newcomer, "newcomer", "Newcomer-Pass-2014")
    assert "You have no area yet" in newcomer.content()
    violations += axe_violations(newcomer)
    assert violations == []


def test_the_accessibility_check_catches_a_real_violation(page):
    page.set_content('<html lang="en"><body><main><img src="data:,"><input></main></body></html>')
    ids = " ".join(axe_violations(page))
    assert "image-alt" in ids
    assert "label" in ids


def test_a_long_history_pages_through_its_versions_accessibly(page, demo):
    """Rotherham's vision saved 45 times: its history shows 20 entries a page, with NHS.UK
    previous and next links between them."""
    from django.contrib.auth import get_user_model

    from plans.models import Part
    from plans.services import part_save

    part = Part.objects.get(plan__area__slug="rotherham", key="vision")
    author = get_user_model().objects.get(username="rotherham-commissioner")
    for number in range(part.version + 1, part.version + 46):
        part_save(
            part=part,
            content={"text": f"Our vision, draft {number}."},
            status="in_progress",
            base_version=number - 1,
            user=author,
        )
    sign_in(page, "rotherham-reviewer", demo_password())
    page.goto("/areas/rotherham/plans/itf-2014/parts/vision/history/")
    assert page.get_by_test_id("history-entry").count() == 20
    violations = axe_violations(page)
    page.get_by_role("link", name="Next : Older versions").click()
    page.wait_for_url("**?page=2")
    assert page.get_by_test_id("history-entry").count() == 20
    violations += axe_violations(page)
    page.get_by_role("link", name="Previous : Newer versions").click()
    page.wait_for_url("**?page=1")
    assert violations == []


def test_all_of_a_parts_comments_are_a_link_away_and_accessible(page, demo):
    from django.contrib.auth import get_user_model

    from plans.models import Part
    from plans.services import comment_add

    part = Part.objects.get(plan__area__slug="rotherham", key="vision")
    author = get_user_model().objects.get(username="rotherham-reviewer")
    for number in range(1, 26):
        comment_add(part=part, author=author, text=f"Point {number} to consider.")
    sign_in(page, "rotherham-reviewer", demo_password())
    page.goto("/areas/rotherham/plans/itf-2014/parts/vision/")
    assert page.get_by_test_id("comment").count() == 10
    page.get_by_role("link", name="See all 25 comments").click()
    page.wait_for_url("**/parts/vision/comments/all/")
    assert page.get_by_test_id("comment").count() == 20
    violations = axe_violations(page)
    page.get_by_role("link", name="Next : Older comments").click()
    page.wait_for_url("**?page=2")
    page.get_by_role("button", name="Resolve this comment").first.click()
    page.wait_for_url("**/comments/all/?page=2")
    assert "Comment resolved." in page.content()
    violations += axe_violations(page)
    assert violations == []
