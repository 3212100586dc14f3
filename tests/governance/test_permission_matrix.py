"""Every URL against each kind of visitor: anonymous, outsider, member without the role, with it."""

import pytest
from django.urls import reverse

from governance.models import Membership

PART = {"slug": "southampton", "round_slug": "itf-2014", "key": "vision"}

# expected status for: anonymous, outsider (another area), member without the role, member with it
# ("member with it" is the area admin for area pages and the national admin for national pages).
MATRIX = [
    ("dashboard", {}, "reviewer", "reviewer", (302, 200, 200, 200)),
    ("area_detail", {"slug": "southampton"}, "reviewer", "reviewer", (302, 404, 200, 200)),
    ("member_add", {"slug": "southampton"}, "reviewer", "admin", (302, 404, 403, 200)),
    (
        "member_remove",
        {"slug": "southampton", "pk": "commissioner"},
        "reviewer",
        "admin",
        (302, 404, 403, 200),
    ),
    ("area_create", {}, "admin", "national", (302, 403, 403, 200)),
    ("area_edit", {"slug": "southampton"}, "admin", "national", (302, 403, 403, 200)),
    ("organisation_list", {}, "admin", "national", (302, 403, 403, 200)),
    ("organisation_create", {}, "admin", "national", (302, 403, 403, 200)),
    ("organisation_edit", {"pk": "organisation"}, "admin", "national", (302, 403, 403, 200)),
    ("password_change", {}, "reviewer", "reviewer", (302, 200, 200, 200)),
    (
        "task_list",
        {"slug": "southampton", "round_slug": "itf-2014"},
        "reviewer",
        "reviewer",
        (302, 404, 200, 200),
    ),
    ("part", PART, "reviewer", "commissioner", (302, 404, 200, 200)),
    ("part_history", PART, "reviewer", "reviewer", (302, 404, 200, 200)),
    (
        "fund_summary",
        {"slug": "southampton", "round_slug": "itf-2014"},
        "reviewer",
        "reviewer",
        (302, 404, 200, 200),
    ),
    ("allocations", {}, "admin", "national", (302, 403, 403, 200)),
    (
        "plan_export",
        {"slug": "southampton", "round_slug": "itf-2014"},
        "reviewer",
        "reviewer",
        (302, 404, 200, 200),
    ),
    (
        "readiness",
        {"slug": "southampton", "round_slug": "itf-2014"},
        "reviewer",
        "reviewer",
        (302, 404, 200, 200),
    ),
    (
        "reopen",
        {"slug": "southampton", "round_slug": "itf-2014"},
        "commissioner",
        "admin",
        (302, 404, 403, 200),
    ),
]

# POSTs: anonymous, outsider, member without the role, member with it.
POST_MATRIX = [
    (
        "readiness",
        {"slug": "southampton", "round_slug": "itf-2014"},
        {},
        "reviewer",
        "commissioner",
        (302, 404, 403, 400),
    ),
    (
        "part",
        PART,
        {"base_version": "0", "status": "in_progress", "text": "x"},
        "reviewer",
        "commissioner",
        (302, 404, 403, 302),
    ),
    ("part_assign", PART, {"assignee": ""}, "commissioner", "admin", (302, 404, 403, 302)),
    (
        "comment_add",
        PART,
        {"comment-text": "A comment"},
        "nobody",
        "reviewer",
        (302, 404, 404, 302),
    ),
    ("part_presence", PART, {}, "nobody", "reviewer", (302, 404, 404, 200)),
    (
        "part_restore",
        {**PART, "history_id": 1},
        {"base_version": "0"},
        "reviewer",
        "commissioner",
        (302, 404, 403, 302),
    ),
]


def _url(world, name, kwargs):
    resolved = dict(kwargs)
    if resolved.get("pk") == "commissioner":
        resolved["pk"] = Membership.objects.get(user=world.commissioner).pk
    elif resolved.get("pk") == "organisation":
        resolved["pk"] = world.area.partners.first().pk
    return reverse(name, kwargs=resolved)


@pytest.mark.parametrize(
    "name,kwargs,without,with_role,expected", MATRIX, ids=[m[0] for m in MATRIX]
)
@pytest.mark.parametrize(
    "visitor", [0, 1, 2, 3], ids=["anonymous", "outsider", "without-role", "with-role"]
)
def test_each_url_answers_each_visitor_as_the_matrix_says(
    client, world, name, kwargs, without, with_role, expected, visitor
):
    user = [None, world.outsider, getattr(world, without), getattr(world, with_role)][visitor]
    if user:
        client.force_login(user)
    response = client.get(_url(world, name, kwargs))
    assert response.status_code == expected[visitor]
    if expected[visitor] == 302:
        assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("member_add", {"slug": "southampton"}),
        ("member_remove", {"slug": "southampton", "pk": "commissioner"}),
    ],
)
def test_a_forged_post_from_another_area_changes_nothing(client, world, name, kwargs):
    before = Membership.objects.count()
    client.force_login(world.outsider)
    response = client.post(
        _url(world, name, kwargs),
        {
            "email": "x@example.org",
            "first_name": "X",
            "last_name": "Y",
            "organisation": world.area.partners.first().pk,
            "role": "reviewer",
        },
    )
    assert response.status_code == 404
    assert Membership.objects.count() == before


def test_a_reviewer_is_told_why_they_cannot_manage_members(client, world):
    client.force_login(world.reviewer)
    response = client.get(reverse("member_add", kwargs={"slug": "southampton"}))
    assert response.status_code == 403
    assert "Only the area admin can change who is a member" in response.content.decode()


def test_an_unknown_area_and_another_areas_area_look_the_same(client, world):
    client.force_login(world.outsider)
    missing = client.get(reverse("area_detail", kwargs={"slug": "nowhere"}))
    hidden = client.get(reverse("area_detail", kwargs={"slug": "southampton"}))
    assert missing.status_code == hidden.status_code == 404
    assert "Southampton" not in hidden.content.decode()


@pytest.mark.parametrize(
    "name,kwargs,data,without,with_role,expected", POST_MATRIX, ids=[m[0] for m in POST_MATRIX]
)
@pytest.mark.parametrize(
    "visitor", [0, 1, 2, 3], ids=["anonymous", "outsider", "without-role", "with-role"]
)
def test_each_post_answers_each_visitor_as_the_matrix_says(
    client, world, name, kwargs, data, without, with_role, expected, visitor
):
    user = [None, world.outsider, getattr(world, without), getattr(world, with_role)][visitor]
    if user:
        client.force_login(user)
    response = client.post(reverse(name, kwargs=kwargs), data)
    assert response.status_code == expected[visitor]
    if expected[visitor] == 302 and visitor == 0:
        assert response.url.startswith(reverse("login"))
