"""Every URL against each kind of visitor: anonymous, outsider, member without the role, with it."""

from datetime import date
from types import SimpleNamespace

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
    (  # asked for, the PDF is printed by the task worker: "preparing" (202) until it is ready
        "plan_export_pdf",
        {"slug": "southampton", "round_slug": "itf-2014"},
        "reviewer",
        "reviewer",
        (302, 404, 202, 202),
    ),
    (
        "readiness",
        {"slug": "southampton", "round_slug": "itf-2014"},
        "reviewer",
        "reviewer",
        (302, 404, 200, 200),
    ),
    (  # before submission it says returns start then
        "monitoring",
        {"slug": "southampton", "round_slug": "itf-2014"},
        "reviewer",
        "reviewer",
        (302, 404, 200, 200),
    ),
    (
        "quarterly_return",
        {"slug": "southampton", "round_slug": "itf-2014", "quarter": "2014-15-q1"},
        "reviewer",
        "reviewer",
        (302, 404, 200, 200),
    ),
    (
        "monitoring_pdf",
        {"slug": "southampton", "round_slug": "itf-2014"},
        "reviewer",
        "reviewer",
        (302, 404, 202, 202),
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
    (  # a plan in Drafting has no returns yet: refused with why, once permitted
        "quarterly_return",
        {"slug": "southampton", "round_slug": "itf-2014", "quarter": "2014-15-q1"},
        {"base_version": "0"},
        "reviewer",
        "admin",
        (302, 404, 403, 409),
    ),
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


# ---- Sign-off moves and membership changes, posted as each kind of person would ---------------

DAY = {"day": "14", "month": "2", "year": "2014", "iso": "2014-02-14"}


def _date(name: str) -> dict:
    # Both the date input's three boxes and a single ISO field: each form reads the ones it has.
    return {
        name: DAY["iso"],
        f"{name}_day": DAY["day"],
        f"{name}_month": DAY["month"],
        f"{name}_year": DAY["year"],
    }


def _signing(world, state: str):
    """Southampton's plan sealed and taken to `state` by the people whose moves they are."""
    from django.test import RequestFactory

    from governance.constants import Role
    from governance.signoff import plan_approve, plan_submit_for_signoff, signature_add
    from plans.models import Plan
    from plans.services import plan_current_round, plan_open
    from tests.factories import PASSWORD, member_make, plan_make_ready

    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.7")
    plan = plan_make_ready(plan_open(area=world.area, round=plan_current_round()), world.admin)
    plan_submit_for_signoff(plan=plan, user=world.commissioner)
    signers = {
        m.partnership.organisation_id: m.user
        for m in Membership.objects.filter(partnership__area=world.area, role=Role.SIGNATORY)
    }
    chair = member_make(world.area, Role.HWB_CHAIR, username="chair")
    if state in ("signed", "approved"):
        for organisation in plan.partner_organisations:
            signature_add(
                plan=Plan.objects.get(pk=plan.pk),
                user=signers[organisation.pk],
                organisation=organisation,
                password=PASSWORD,
                position="Chief Executive",
                request=request,
            )
    if state == "approved":
        plan_approve(
            plan=Plan.objects.get(pk=plan.pk),
            user=chair,
            password=PASSWORD,
            agreed_on=date(2014, 2, 14),
            request=request,
        )
    plan = Plan.objects.get(pk=plan.pk)
    council = world.area.partners.get(kind="la")
    ccg = world.area.partners.get(kind="ccg")
    return SimpleNamespace(
        plan=plan,
        seal=plan.seals.order_by("-number").first().digest,
        council=council,
        council_signatory=signers[council.pk],
        ccg_signatory=signers[ccg.pk],
        chair=chair,
    )


SIGNOFF_MATRIX = [
    # move, state it starts from, posted by: (kind of person, expected status)
    (
        "sign",
        "awaiting_signoff",
        [
            ("anonymous", 302),
            ("outsider", 404),
            ("reviewer", 403),
            ("commissioner", 403),
            ("admin", 403),  # an area admin cannot sign for a partner
            ("national", 403),  # nor can a national admin
            ("ccg_signatory", 403),  # another partner's signatory
            ("chair", 403),
            ("council_signatory", 302),
        ],
    ),
    (
        "decline",
        "awaiting_signoff",
        [
            ("anonymous", 302),
            ("outsider", 404),
            ("reviewer", 403),
            ("commissioner", 403),
            ("admin", 403),
            ("national", 403),
            ("ccg_signatory", 403),
            ("council_signatory", 302),
        ],
    ),
    (
        "approve",
        "signed",
        [
            ("anonymous", 302),
            ("outsider", 404),
            ("reviewer", 403),
            ("commissioner", 403),
            ("admin", 403),
            ("national", 403),
            ("council_signatory", 403),
            ("chair", 302),
        ],
    ),
    (
        "mark_submitted",
        "approved",
        [
            ("anonymous", 302),
            ("outsider", 404),
            ("reviewer", 403),
            ("commissioner", 403),
            ("chair", 403),
            ("admin", 302),
        ],
    ),
    (
        "reopen",
        "awaiting_signoff",
        [
            ("anonymous", 302),
            ("outsider", 404),
            ("reviewer", 403),
            ("commissioner", 403),
            ("council_signatory", 403),
            ("admin", 302),
        ],
    ),
]


def _signoff_post(name: str, signing) -> tuple[str, dict]:
    from tests.factories import PASSWORD

    plan_kwargs = {"slug": "southampton", "round_slug": "itf-2014"}
    council = signing.council.pk
    posts = {
        "sign": (
            reverse("sign", kwargs={**plan_kwargs, "organisation_id": council}),
            {
                f"sign{council}-seal": signing.seal,
                f"sign{council}-password": PASSWORD,
                f"sign{council}-position": "Chief Executive",
            },
        ),
        "decline": (
            reverse("decline", kwargs={**plan_kwargs, "organisation_id": council}),
            {
                f"decline{council}-seal": signing.seal,
                f"decline{council}-password": PASSWORD,
                f"decline{council}-reason": "The figures are not agreed",
            },
        ),
        "approve": (
            reverse("approve", kwargs=plan_kwargs),
            {"seal": signing.seal, "password": PASSWORD, **_date("agreed_on")},
        ),
        "mark_submitted": (reverse("mark_submitted", kwargs=plan_kwargs), _date("submitted_on")),
        "reopen": (
            reverse("reopen", kwargs=plan_kwargs),
            {"reason": "Late figures", "password": PASSWORD},
        ),
    }
    return posts[name]


@pytest.mark.parametrize(
    "name,state,posted_by,expected",
    [
        (name, state, who, status)
        for name, state, people in SIGNOFF_MATRIX
        for who, status in people
    ],
    ids=[f"{name}-{who}" for name, _, people in SIGNOFF_MATRIX for who, _ in people],
)
def test_each_sign_off_move_answers_each_person_as_the_matrix_says(
    client, world, name, state, posted_by, expected
):
    from governance.models import Decision, Signature
    from plans.models import Plan

    signing = _signing(world, state)
    person = getattr(signing, posted_by, None) or getattr(world, posted_by, None)
    if posted_by != "anonymous":
        client.force_login(person)
    before = (
        Decision.objects.count(),
        Signature.objects.filter(withdrawn_at__isnull=True).count(),
        Plan.objects.get(pk=signing.plan.pk).state,
    )
    url, data = _signoff_post(name, signing)
    response = client.post(url, data, REMOTE_ADDR="10.0.0.8")
    assert response.status_code == expected, response.content.decode()[:2000]
    after = (
        Decision.objects.count(),
        Signature.objects.filter(withdrawn_at__isnull=True).count(),
        Plan.objects.get(pk=signing.plan.pk).state,
    )
    if expected == 302 and posted_by != "anonymous":
        assert after != before  # the move was made
    else:
        assert after == before  # a refusal changes nothing
        if posted_by == "anonymous":
            assert response.url.startswith(reverse("login"))


MEMBER_POSTS = [
    # posted by, expected status, whether a membership changes
    ("anonymous", 302, False),
    ("outsider", 404, False),
    ("reviewer", 403, False),
    ("commissioner", 403, False),
    ("admin", 302, True),
    ("national", 302, True),
]


@pytest.mark.parametrize("posted_by,expected,changes", MEMBER_POSTS)
def test_adding_a_member_answers_each_person_as_the_matrix_says(
    client, world, posted_by, expected, changes
):
    if posted_by != "anonymous":
        client.force_login(getattr(world, posted_by))
    before = Membership.objects.count()
    response = client.post(
        reverse("member_add", kwargs={"slug": "southampton"}),
        {
            "email": "new.reviewer@example.org",
            "first_name": "New",
            "last_name": "Reviewer",
            "organisation": world.area.partners.get(kind="la").pk,
            "role": "reviewer",
        },
    )
    assert response.status_code == expected
    assert (Membership.objects.count() == before + 1) is changes


@pytest.mark.parametrize("posted_by,expected,changes", MEMBER_POSTS)
def test_removing_a_member_answers_each_person_as_the_matrix_says(
    client, world, posted_by, expected, changes
):
    if posted_by != "anonymous":
        client.force_login(getattr(world, posted_by))
    membership = Membership.objects.get(user=world.reviewer)
    response = client.post(
        reverse("member_remove", kwargs={"slug": "southampton", "pk": membership.pk})
    )
    assert response.status_code == expected
    assert (not Membership.objects.filter(pk=membership.pk).exists()) is changes
