"""A long table part's rows, each on its own page: the schemes and the key risks."""

import pytest

from finance.services import part_save
from governance.constants import Role
from plans.constants import PlanState
from plans.services import plan_current_round, plan_open
from tests.factories import member_make, row_post_data, row_url, rows_add


@pytest.fixture
def plan(world):
    return plan_open(area=world.area, round=plan_current_round())


@pytest.fixture
def lead(world, client):
    user = member_make(world.area, Role.FINANCE_LEAD, username="finance")
    client.force_login(user)
    return user


def scheme(name, spend="1000", **more):
    return {"name": name, "scheme_type": "reablement", "spend": {"2015/16": spend}, **more}


def names(plan):
    return [row["name"] for row in plan.parts.get(key="schemes").content["rows"]]


def test_a_finance_lead_adds_changes_moves_and_removes_schemes_one_at_a_time(client, plan, lead):
    rows_add(client, plan, "schemes", [scheme("Reablement"), scheme("Carers"), scheme("Falls")])
    assert names(plan) == ["Reablement", "Carers", "Falls"]
    overview = client.get(row_url(plan, "schemes").removesuffix("rows/new/")).content.decode()
    assert 'href="/areas/southampton/plans/itf-2014/parts/schemes/rows/3/">Falls</a>' in overview
    assert "Add a scheme" in overview
    assert "Net total" in overview and "£3,000" in overview

    # Falls renamed and moved to the top; the others keep their order.
    data = row_post_data(plan, "schemes", scheme("Falls prevention"), number=3, position=1)
    response = client.post(row_url(plan, "schemes", 3), data)
    assert response.status_code == 302 and response.url.endswith("#row-1")
    assert names(plan) == ["Falls prevention", "Reablement", "Carers"]

    page = client.get(row_url(plan, "schemes", 2, "remove/"))
    assert "Remove scheme 2?" in page.content.decode() and "Reablement" in page.content.decode()
    part = plan.parts.get(key="schemes")
    removed = client.post(
        row_url(plan, "schemes", 2, "remove/"),
        {"base_version": part.version, "was": page.context["was"]},
    )
    assert removed.status_code == 302
    assert names(plan) == ["Falls prevention", "Carers"]
    history = client.get(row_url(plan, "schemes").removesuffix("rows/new/") + "history/")
    reasons = [entry["record"].history_change_reason for entry in history.context["versions"]]
    assert reasons == [
        "Scheme 2 removed",
        "Scheme 3 changed and moved to 1",
        "Scheme added as 3",
        "Scheme added as 2",
        "Scheme added as 1",
    ]


def test_two_people_changing_different_schemes_both_keep_their_changes(client, plan, lead):
    rows_add(client, plan, "schemes", [scheme("Reablement"), scheme("Carers")])
    # Both open their scheme's page at the same version.
    alice = row_post_data(plan, "schemes", scheme("Reablement", "2000"), number=1)
    bob = row_post_data(plan, "schemes", scheme("Carers", "3000"), number=2)
    new = row_post_data(plan, "schemes", scheme("Falls"))
    assert client.post(row_url(plan, "schemes", 1), alice).status_code == 302
    assert client.post(row_url(plan, "schemes", 2), bob).status_code == 302
    assert client.post(row_url(plan, "schemes"), new).status_code == 302
    rows = plan.parts.get(key="schemes").content["rows"]
    assert [(row["name"], row["spend"]["2015/16"]) for row in rows] == [
        ("Reablement", "2000.00"),
        ("Carers", "3000.00"),
        ("Falls", "1000.00"),
    ]


def test_two_people_changing_the_same_scheme_meet_the_conflict_page_and_lose_nothing(
    client, plan, lead
):
    rows_add(client, plan, "schemes", [scheme("Reablement", outcomes="Fewer admissions")])
    alice = row_post_data(
        plan, "schemes", scheme("Reablement", outcomes="Fewer admissions"), number=1
    )
    alice["row-outcomes"] = "Fewer admissions and shorter stays"
    bob = dict(alice, **{"row-outcomes": "Fewer admissions to care homes"})
    assert client.post(row_url(plan, "schemes", 1), alice).status_code == 302
    response = client.post(row_url(plan, "schemes", 1), bob)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else changed this scheme while you were editing it" in page
    assert "Fewer admissions to care homes" in page  # Bob's words, in his form
    assert "<del>and</del>" in page  # what differs, word by word
    assert plan.parts.get(key="schemes").content["rows"][0]["outcomes"] == (
        "Fewer admissions and shorter stays"
    )
    # Saved again from the conflict page, Bob's version replaces the scheme as it is now.
    form = response.context["form"]
    again = {name: form[name].value() for name in ("base_version", "was", "position")}
    resend = dict(bob, **{f"row-{name}": value for name, value in again.items()})
    assert client.post(row_url(plan, "schemes", 1), resend).status_code == 302
    assert plan.parts.get(key="schemes").content["rows"][0]["outcomes"] == (
        "Fewer admissions to care homes"
    )


def test_a_scheme_removed_meanwhile_is_not_changed_and_can_be_added_back(client, plan, lead):
    rows_add(client, plan, "schemes", [scheme("Reablement"), scheme("Carers")])
    mine = row_post_data(plan, "schemes", scheme("Carers", "5000"), number=2)
    part = plan.parts.get(key="schemes")
    part_save(
        part=part,
        content={"rows": part.content["rows"][:1]},
        status="in_progress",
        base_version=part.version,
        user=lead,
    )
    response = client.post(row_url(plan, "schemes", 2), mine)
    assert response.status_code == 409
    assert "is no longer in the table: saving adds yours as a new one" in response.content.decode()
    form = response.context["form"]
    assert response.context["action"].endswith("/rows/new/")
    resend = dict(
        mine,
        **{f"row-{name}": form[name].value() for name in ("base_version", "was", "position")},
    )
    assert client.post(row_url(plan, "schemes"), resend).status_code == 302
    assert names(plan) == ["Reablement", "Carers"]


def test_removing_a_scheme_someone_has_just_changed_is_refused(client, plan, lead):
    rows_add(client, plan, "schemes", [scheme("Reablement")])
    was = client.get(row_url(plan, "schemes", 1, "remove/")).context["was"]
    version = plan.parts.get(key="schemes").version
    changed = row_post_data(plan, "schemes", scheme("Reablement", "9000"), number=1)
    assert client.post(row_url(plan, "schemes", 1), changed).status_code == 302
    response = client.post(
        row_url(plan, "schemes", 1, "remove/"), {"base_version": version, "was": was}, follow=True
    )
    assert "so it has not been removed" in response.content.decode()
    assert names(plan) == ["Reablement"]


def test_a_second_click_on_add_adds_the_scheme_once(client, plan, lead):
    data = row_post_data(plan, "schemes", scheme("Reablement"))
    assert client.post(row_url(plan, "schemes"), data).status_code == 302
    assert client.post(row_url(plan, "schemes"), data).status_code == 302
    assert names(plan) == ["Reablement"]


@pytest.mark.parametrize("position", ["0", "3", "two", ""])
def test_a_position_outside_the_table_is_explained_and_the_typing_kept(
    client, plan, lead, position
):
    rows_add(client, plan, "schemes", [scheme("Reablement")])
    data = row_post_data(plan, "schemes", scheme("Carers"))
    data["row-position"] = position
    response = client.post(row_url(plan, "schemes"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Enter a position from 1 to 2." in page or "as a whole number" in page
    assert 'value="Carers"' in page
    assert names(plan) == ["Reablement"]


def test_readers_see_the_overview_and_each_scheme_but_cannot_change_them(client, world, plan, lead):
    rows_add(client, plan, "schemes", [scheme("Reablement", provider="Solent NHS Trust")])
    client.force_login(world.reviewer)
    overview = client.get(row_url(plan, "schemes").removesuffix("rows/new/")).content.decode()
    assert "Reablement" in overview and "Add a scheme" not in overview
    page = client.get(row_url(plan, "schemes", 1)).content.decode()
    assert "Solent NHS Trust" in page and "Save scheme" not in page
    data = row_post_data(plan, "schemes", scheme("Changed"), number=1)
    assert client.post(row_url(plan, "schemes", 1), data).status_code == 403
    assert client.get(row_url(plan, "schemes")).status_code == 403
    assert client.post(row_url(plan, "schemes", 1, "remove/"), {}).status_code == 403
    assert names(plan) == ["Reablement"]


def test_another_areas_schemes_and_missing_rows_are_not_found(client, world, plan, lead):
    rows_add(client, plan, "schemes", [scheme("Reablement")])
    other = plan_open(area=world.other_area, round=plan_current_round())
    assert client.get(row_url(other, "schemes", 1)).status_code in (403, 404)
    assert client.get(row_url(plan, "schemes", 2)).status_code == 404
    assert client.get(row_url(plan, "schemes").replace("new/", "0/")).status_code == 404
    assert client.get(row_url(plan, "vision", 1)).status_code == 404  # not a table part
    assert client.get(row_url(plan, "contingency")).status_code == 404  # edited all together


def test_a_frozen_plan_keeps_what_was_typed_on_a_schemes_page(client, plan, lead):
    rows_add(client, plan, "schemes", [scheme("Reablement")])
    data = row_post_data(plan, "schemes", scheme("Reablement, seven days"), number=1)
    plan.state = PlanState.AWAITING_SIGNOFF
    plan.save()
    response = client.post(row_url(plan, "schemes", 1), data)
    assert response.status_code == 409
    assert "Reablement, seven days" in response.content.decode()
    assert names(plan) == ["Reablement"]


def test_the_schemes_pages_cost_the_same_at_300_schemes(
    client, plan, lead, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows_add(client, plan, "schemes", [scheme("Reablement")])
    pages = [row_url(plan, "schemes").removesuffix("rows/new/"), row_url(plan, "schemes", 1)]
    counts = {}
    for url in pages:
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        counts[url] = len(captured)
    part = plan.parts.get(key="schemes")
    part_save(
        part=part,
        content={"rows": [scheme(f"Scheme {n}") for n in range(300)]},
        status="in_progress",
        base_version=part.version,
        user=lead,
    )
    for url in pages:
        with django_assert_max_num_queries(counts[url]):
            response = client.get(url)
    # The overview is a row of a few cells per scheme, not a form of every scheme's fields.
    overview = client.get(pages[0]).content.decode()
    assert overview.count('name="row-') == 0 and overview.count("/rows/") >= 300
    assert len(overview) < 300 * 1_200
    assert response.status_code == 200


def _save_rows(plan, user, rows, status="in_progress"):
    part = plan.parts.get(key="schemes")
    part_save(
        part=part,
        content={"rows": rows},
        status=status,
        base_version=part.version,
        user=user,
    )


def test_a_scheme_removed_from_the_middle_meanwhile_is_never_confused_with_the_next(
    client, plan, lead
):
    rows_add(client, plan, "schemes", [scheme("Reablement"), scheme("Carers"), scheme("Falls")])
    mine = row_post_data(plan, "schemes", scheme("Carers", "5000"), number=2)
    rows = plan.parts.get(key="schemes").content["rows"]
    _save_rows(plan, lead, [rows[0], rows[2]])  # a colleague removes Carers
    response = client.post(row_url(plan, "schemes", 2), mine)
    assert response.status_code == 409
    assert "is no longer in the table" in response.content.decode()
    assert response.context["action"].endswith("/rows/new/")  # not "replaces scheme 2" (Falls)
    assert names(plan) == ["Reablement", "Falls"]


def test_a_scheme_changed_and_moved_down_meanwhile_is_found_where_it_is_now(client, plan, lead):
    rows_add(client, plan, "schemes", [scheme("Reablement"), scheme("Carers")])
    mine = row_post_data(plan, "schemes", scheme("Carers", "5000"), number=2)
    rows = plan.parts.get(key="schemes").content["rows"]
    theirs = {**rows[1], "provider": "Carers Trust"}
    _save_rows(plan, lead, [scheme("Falls"), rows[0], theirs])  # one added above, Carers changed
    response = client.post(row_url(plan, "schemes", 2), mine)
    assert response.status_code == 409
    assert response.context["action"].endswith("/rows/3/")
    assert "Carers Trust" in response.content.decode()  # their version, in the differences


def test_a_save_or_remove_for_a_row_that_has_gone_is_never_a_server_error(client, plan, lead):
    rows_add(client, plan, "schemes", [scheme("Reablement")])
    blank = row_post_data(plan, "schemes", scheme(""), number=1)
    assert client.post(row_url(plan, "schemes", 5), blank).status_code == 400
    was = client.get(row_url(plan, "schemes", 1, "remove/")).context["was"]
    data = {"base_version": plan.parts.get(key="schemes").version, "was": was}
    assert client.post(row_url(plan, "schemes", 1, "remove/"), data).status_code == 302
    again = client.post(row_url(plan, "schemes", 1, "remove/"), data, follow=True)
    assert again.status_code == 200 and "has not been removed" in again.content.decode()


def test_removing_the_last_scheme_of_a_complete_part_makes_it_in_progress(client, plan, lead):
    _save_rows(plan, lead, [scheme("Reablement")], status="complete")
    was = client.get(row_url(plan, "schemes", 1, "remove/")).context["was"]
    version = plan.parts.get(key="schemes").version
    client.post(row_url(plan, "schemes", 1, "remove/"), {"base_version": version, "was": was})
    part = plan.parts.get(key="schemes")
    assert part.content["rows"] == [] and part.status == "in_progress"


def test_a_table_at_its_most_rows_refuses_one_more_in_words_and_keeps_the_typing(
    client, plan, lead
):
    from plans.template import ROW_LIMIT

    _save_rows(plan, lead, [scheme(f"Scheme {n}") for n in range(ROW_LIMIT)])
    response = client.post(
        row_url(plan, "schemes"), row_post_data(plan, "schemes", scheme("One more"))
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "it would have 1,001 rows, and the most a part can have is 1,000" in page
    assert "List should have" not in page
    assert 'value="One more"' in page
    assert len(names(plan)) == ROW_LIMIT
