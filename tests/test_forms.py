"""What a person types is kept and explained: the NHS.UK date input, long answers, and error
messages that name the field once in the summary and once beside it."""

import re
from datetime import date

import pytest
from django import forms
from django.urls import reverse

from governance.constants import Role
from governance.signoff import plan_submit_for_signoff
from itf_portal.forms import DayMonthYearField, error_summary, form_data
from plans.services import plan_current_round, plan_open
from tests.factories import PASSWORD, member_make, part_post_data, plan_make_ready


class DateForm(forms.Form):
    agreed = DayMonthYearField(label="Date agreed at the Board", name="Date agreed")


def typed(day, month, year) -> dict:
    return {"agreed_day": day, "agreed_month": month, "agreed_year": year}


@pytest.mark.parametrize(
    "day,month,year,message,anchor",
    [
        ("31", "2", "2014", "Date agreed must be a real date.", "day"),
        ("1", "", "2014", "Date agreed must include a month.", "month"),
        ("1", "2", "", "Date agreed must include a year.", "year"),
        ("", "", "2014", "Date agreed must include a day and month.", "day"),
        ("1", "2", "14", "Date agreed must include a year with 4 numbers, like 2015.", "year"),
        ("x", "2", "2014", "Date agreed must be a real date.", "day"),
        ("1", "13", "2014", "Date agreed must be a real date.", "day"),
        ("²", "2", "2014", "Date agreed must be a real date.", "day"),
        ("1", "2", "9" * 400, "Date agreed must include a year with 4 numbers, like 2015.", "year"),
    ],
)
def test_a_wrong_date_says_what_is_wrong_and_links_to_the_first_wrong_input(
    day, month, year, message, anchor
):
    form = DateForm(typed(day, month, year))
    assert not form.is_valid()
    assert form.errors["agreed"] == [message]
    assert error_summary(form) == [(f"#id_agreed_{anchor}", message)]


def test_a_date_is_a_date_and_three_empty_inputs_are_no_answer():
    form = DateForm(typed(" 31 ", "03", "2015"))
    assert form.is_valid() and form.cleaned_data["agreed"] == date(2015, 3, 31)
    form = DateForm(typed("", "", ""))
    assert form.is_valid() and form.cleaned_data["agreed"] is None
    assert not form.has_changed()


def test_a_stored_date_is_shown_and_posted_as_day_month_and_year():
    shown = DateForm(initial={"agreed": "2015-03-31"})
    assert form_data(shown) == typed("31", "3", "2015")
    again = DateForm(form_data(shown))
    assert again.is_valid() and again.cleaned_data["agreed"] == date(2015, 3, 31)


@pytest.fixture
def plan(world):
    return plan_open(area=world.area, round=plan_current_round())


def part_url(plan, key):
    return reverse(
        "part", kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug, "key": key}
    )


def test_an_impossible_date_is_kept_as_typed_and_named(client, world, plan):
    client.force_login(world.commissioner)
    data = part_post_data(plan, "data_sharing", {})
    data.update(
        {
            "nhs_number_used": "no",
            "nhs_number_by_day": "31",
            "nhs_number_by_month": "2",
            "nhs_number_by_year": "2014",
        }
    )
    response = client.post(part_url(plan, "data_sharing"), data)
    assert response.status_code == 400
    page = response.content.decode()
    # Once in the summary, once beside the field.
    assert page.count("NHS Number in place by must be a real date.") == 2
    assert 'href="#id_nhs_number_by_day"' in page
    for name, value in (("day", "31"), ("month", "2"), ("year", "2014")):
        assert re.search(rf'name="nhs_number_by_{name}" [^>]*value="{value}"', page)
    assert 'type="date"' not in page
    assert "primary identifier. For example, 31 3 2015" in page
    assert plan.parts.get(key="data_sharing").version == 0


def test_a_long_answer_is_refused_whole_and_never_cut(client, world, plan):
    client.force_login(world.commissioner)
    answer = "Care close to home. " * 5_000  # 100,000 characters
    data = part_post_data(plan, "vision", {"text": answer})
    response = client.post(part_url(plan, "vision"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count("must be 10,000 characters or fewer") == 2
    textarea = re.search(r'<textarea name="text"[^>]*>\n?(.*?)</textarea>', page, re.S)
    assert textarea and textarea.group(1) == answer
    assert "maxlength" not in textarea.group(0)
    assert 'data-module="nhsuk-character-count" data-maxlength="10000"' in page
    assert "You can enter up to 10,000 characters" in page
    assert plan.parts.get(key="vision").version == 0


def test_the_answer_and_the_comment_have_their_own_ids(client, world, plan):
    client.force_login(world.commissioner)
    page = client.get(part_url(plan, "vision")).content.decode()
    assert page.count('id="id_text"') == 1
    assert page.count('id="id_comment-text"') == 1
    assert 'for="id_comment-text"' in page


def test_a_wrong_due_date_is_shown_beside_the_assignment_as_typed(client, world, plan):
    client.force_login(world.admin)
    url = reverse(
        "part_assign",
        kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug, "key": "vision"},
    )
    response = client.post(
        url,
        {
            "assignee": world.commissioner.pk,
            "due_date_day": "30",
            "due_date_month": "2",
            "due_date_year": "2014",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count("Due date must be a real date.") == 2
    assert re.search(r'name="due_date_day" [^>]*value="30"', page)
    assert plan.parts.get(key="vision").assignee is None


def test_a_refused_decline_opens_its_section_with_the_reason_kept(client, world, plan, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    plan_make_ready(plan, world.commissioner)
    plan_submit_for_signoff(plan=plan, user=world.admin)
    council = plan.area.partners.get(kind="la")
    signatory = member_make(world.area, Role.SIGNATORY, organisation=council, username="sig")
    signatory.set_password(PASSWORD)
    signatory.save()
    client.force_login(signatory)
    base = {"slug": plan.area.slug, "round_slug": plan.round.slug}
    page = client.get(reverse("signoff", kwargs=base)).content.decode()
    assert '<details class="nhsuk-details">' in page  # closed until it holds an error
    seal = re.search(rf'name="decline{council.pk}-seal" value="([0-9a-f]+)"', page).group(1)
    response = client.post(
        reverse("decline", kwargs={**base, "organisation_id": council.pk}),
        {f"decline{council.pk}-seal": seal, f"decline{council.pk}-reason": "Figures wrong"},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert '<details class="nhsuk-details" open>' in page
    assert f'href="#id_decline{council.pk}-password"' in page
    assert "Figures wrong" in page
    assert page.count("Enter your password to decline.") == 2


def test_no_box_stops_typing_at_its_limit_a_long_name_is_refused_beside_it_and_kept(client, world):
    pages = [
        (world.admin, reverse("member_add", kwargs={"slug": world.area.slug})),
        (world.national, reverse("area_create")),
        (world.national, reverse("organisation_create")),
        (world.national, reverse("allocations")),
    ]
    for user, url in pages:
        client.force_login(user)
        assert " maxlength=" not in client.get(url).content.decode(), url
    client.logout()
    assert " maxlength=" not in client.get(reverse("login")).content.decode()
    client.force_login(world.admin)
    name = "Bartholomew-" * 20  # 240 characters, more than a first name holds
    council = world.area.partners.get(kind="la")
    page = client.post(
        reverse("member_add", kwargs={"slug": world.area.slug}),
        {
            "email": "long.name@example.org",
            "first_name": name,
            "last_name": "New",
            "organisation": council.pk,
            "role": Role.COMMISSIONER,
        },
    ).content.decode()
    assert page.count("at most 150 characters") == 2  # in the summary and beside the field
    assert f'value="{name}"' in page
