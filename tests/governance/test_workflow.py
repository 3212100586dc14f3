"""The workflow table: the move functions accept exactly the states it lists, the pages offer
exactly the moves it allows, and a move locks its own plan's row and nothing shared."""

import threading
from datetime import date

import pytest
from django.db import OperationalError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from governance.constants import Move, Role
from governance.models import Decision, Membership, Seal, Signature
from governance.permissions import EDIT_FINANCE, EDIT_PLAN, ROLE_PERMISSIONS
from governance.signoff import (
    StateConflict,
    plan_approve,
    plan_decline,
    plan_mark_submitted,
    plan_reopen,
    plan_submit_for_signoff,
    signature_add,
)
from governance.workflow import WORKFLOW, partners_to_sign, plan_actions
from plans.constants import PlanState
from plans.models import Plan
from plans.services import plan_current_round, plan_open
from tests.factories import PASSWORD, area_make, date_typed, member_make, plan_make_ready

DAY = date(2014, 2, 14)

REQUEST = RequestFactory().post("/", REMOTE_ADDR="10.0.0.4")


def _state_set(plan, state) -> None:
    Plan.objects.filter(pk=plan.pk).update(state=state)
    plan.refresh_from_db()


@pytest.fixture
def devon(db):
    """Devon's plan sealed and awaiting sign-off, with a person for every role."""
    area = area_make("Devon", ccg_count=2)
    plan = plan_open(area=area, round=plan_current_round())
    commissioner = member_make(area, Role.COMMISSIONER)
    plan_make_ready(plan, commissioner)
    plan_submit_for_signoff(plan=plan, user=commissioner)
    plan.refresh_from_db()
    signatory = Membership.objects.filter(partnership__area=area, role=Role.SIGNATORY).first()
    return {
        "plan": plan,
        "organisation": signatory.partnership.organisation,
        Role.COMMISSIONER: commissioner,
        Role.SIGNATORY: signatory.user,
        Role.HWB_CHAIR: member_make(area, Role.HWB_CHAIR),
        Role.AREA_ADMIN: member_make(area, Role.AREA_ADMIN),
    }


def _make(move, devon):
    """Make the move as the person whose role allows it, with everything its guards want."""
    plan, organisation = devon["plan"], devon["organisation"]
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1")
    calls = {
        Move.SUBMIT: lambda: plan_submit_for_signoff(plan=plan, user=devon[Role.COMMISSIONER]),
        Move.SIGN: lambda: signature_add(
            plan=plan,
            user=devon[Role.SIGNATORY],
            organisation=organisation,
            password=PASSWORD,
            position="Accountable Officer",
            request=request,
        ),
        Move.DECLINE: lambda: plan_decline(
            password=PASSWORD,
            request=REQUEST,
            plan=plan,
            user=devon[Role.SIGNATORY],
            organisation=organisation,
            reason="No",
        ),
        Move.APPROVE: lambda: plan_approve(
            plan=plan,
            user=devon[Role.HWB_CHAIR],
            password=PASSWORD,
            agreed_on=DAY,
            request=request,
        ),
        Move.REOPEN: lambda: plan_reopen(
            password=PASSWORD, request=REQUEST, plan=plan, user=devon[Role.AREA_ADMIN], reason="Why"
        ),
        Move.MARK_SUBMITTED: lambda: plan_mark_submitted(
            plan=plan, user=devon[Role.AREA_ADMIN], submitted_on=DAY
        ),
    }
    return calls[move]()


def _written() -> tuple[int, int, int]:
    return Decision.objects.count(), Seal.objects.count(), Signature.objects.count()


def test_the_table_has_one_row_for_every_move():
    assert set(WORKFLOW) == set(Move)
    assert all(key == transition.move for key, transition in WORKFLOW.items())
    assert all(transition.target not in transition.sources for transition in WORKFLOW.values())


@pytest.mark.parametrize("state", list(PlanState))
@pytest.mark.parametrize("move", list(Move))
def test_each_move_accepts_exactly_the_states_the_table_lists(devon, move, state):
    plan = devon["plan"]
    transition = WORKFLOW[move]
    _state_set(plan, state)
    before = _written()
    if transition.allows(state):
        _make(move, devon)
        plan.refresh_from_db()
        # Signing for one of Devon's three partners counts, and leaves the plan awaiting the rest.
        expected = state if transition.target_when else transition.target
        assert plan.state == expected
        assert _written() != before
        return
    with pytest.raises(StateConflict) as conflict:
        _make(move, devon)
    assert str(conflict.value) == transition.wrong_state(state)
    assert _written() == before
    assert Plan.objects.get(pk=plan.pk).state == state


@pytest.mark.parametrize(
    ("move", "state", "message"),
    [
        (
            Move.SUBMIT,
            PlanState.AWAITING_SIGNOFF,
            "The plan is awaiting sign-off: only a plan in Drafting can be submitted for sign-off.",
        ),
        (
            Move.SIGN,
            PlanState.DRAFTING,
            "The plan is in Drafting: only a plan awaiting sign-off can be signed.",
        ),
        (
            Move.APPROVE,
            PlanState.AWAITING_SIGNOFF,
            "The plan is awaiting sign-off: only a plan signed by all partners can be approved.",
        ),
        (
            Move.REOPEN,
            PlanState.SUBMITTED,
            "The plan is submitted: only a plan awaiting sign-off, signed by all partners or "
            "approved by the Health and Wellbeing Board can be reopened.",
        ),
        (
            Move.MARK_SUBMITTED,
            PlanState.SIGNED,
            "The plan is signed by all partners: only a plan approved by the Health and "
            "Wellbeing Board can be marked as submitted.",
        ),
    ],
)
def test_a_wrong_state_is_refused_in_words_that_name_the_states_the_move_starts_from(
    move, state, message
):
    assert WORKFLOW[move].wrong_state(state) == message


def test_the_sign_off_page_shows_the_refusal_for_a_wrong_state(client, devon):
    plan = devon["plan"]
    _state_set(plan, PlanState.SIGNED)
    client.force_login(devon[Role.AREA_ADMIN])
    url = reverse("mark_submitted", kwargs={"slug": "devon", "round_slug": plan.round.slug})
    response = client.post(url, date_typed("submitted_on", "2014-02-14"))
    assert response.status_code == 409
    assert WORKFLOW[Move.MARK_SUBMITTED].wrong_state(PlanState.SIGNED) in response.content.decode()


@pytest.mark.parametrize("state", list(PlanState))
@pytest.mark.parametrize("role", list(Role))
def test_plan_actions_offer_each_role_exactly_the_moves_the_table_allows(world, role, state):
    user = member_make(world.area, role)
    plan = plan_open(area=world.area, round=plan_current_round())
    _state_set(plan, state)
    granted = ROLE_PERMISSIONS[role]
    expected = {
        transition.move
        for transition in WORKFLOW.values()
        if transition.allows(state)
        and (
            role == Role.SIGNATORY
            if transition.permission is None
            else transition.permission in granted
        )
    }
    actions = plan_actions(user, plan)
    assert actions.moves == expected
    assert actions.import_workbook == (
        state == PlanState.DRAFTING and bool({EDIT_PLAN, EDIT_FINANCE} & granted)
    )


@pytest.mark.parametrize("state", list(PlanState))
def test_plan_actions_offer_nothing_to_people_outside_the_area(world, state):
    plan = plan_open(area=world.area, round=plan_current_round())
    _state_set(plan, state)
    for user in (world.outsider, world.national, world.nobody):
        actions = plan_actions(user, plan)
        assert (actions.moves, actions.partners, actions.import_workbook) == (
            frozenset(),
            frozenset(),
            False,
        )


def test_a_signatory_is_offered_the_form_for_their_own_partner_until_it_has_signed(devon):
    plan, organisation, signatory = devon["plan"], devon["organisation"], devon[Role.SIGNATORY]
    actions = plan_actions(signatory, plan)
    assert {Move.SIGN, Move.DECLINE} <= actions.moves
    assert partners_to_sign(actions, signed=set()) == {organisation.pk}
    assert partners_to_sign(actions, signed={organisation.pk}) == frozenset()
    _state_set(plan, PlanState.SIGNED)
    assert partners_to_sign(plan_actions(signatory, plan), signed=set()) == frozenset()


# Each move's button or link, on the page that offers it, to the person whose role allows it.
BUTTONS = [
    (Move.SUBMIT, Role.COMMISSIONER, "readiness", ">Submit for sign-off</button>"),
    (Move.SIGN, Role.SIGNATORY, "signoff", ">Sign on behalf of "),
    (Move.DECLINE, Role.SIGNATORY, "signoff", ">Decline</button>"),
    (
        Move.APPROVE,
        Role.HWB_CHAIR,
        "signoff",
        ">Approve on behalf of the Health and Wellbeing Board</button>",
    ),
    (Move.REOPEN, Role.AREA_ADMIN, "task_list", ">Reopen for editing</a>"),
    (Move.MARK_SUBMITTED, Role.AREA_ADMIN, "signoff", ">Mark as submitted</button>"),
]


@pytest.mark.parametrize("state", list(PlanState))
@pytest.mark.parametrize(("move", "role", "page", "button"), BUTTONS)
def test_a_page_offers_a_move_exactly_when_the_table_allows_it(
    client, devon, move, role, page, button, state
):
    plan = devon["plan"]
    _state_set(plan, state)
    client.force_login(devon[role])
    url = reverse(page, kwargs={"slug": "devon", "round_slug": plan.round.slug})
    assert (button in client.get(url).content.decode()) == WORKFLOW[move].allows(state)


@pytest.mark.django_db(transaction=True)
def test_a_move_in_one_area_does_not_wait_for_a_move_in_another():
    """Each move locks its plan's row only: two areas share the planning round, and a lock on
    that row would queue every area's moves behind each other."""
    planning_round = plan_current_round()
    plans, admins = {}, {}
    for name in ("Devon", "Dorset"):
        area = area_make(name)
        admins[name] = member_make(area, Role.AREA_ADMIN)
        plans[name] = plan_open(area=area, round=planning_round)
        _state_set(plans[name], PlanState.APPROVED)
    held, release, errors = threading.Event(), threading.Event(), []

    def hold_devon():
        # The move's own transaction is the inner one: its lock lasts until `release`.
        try:
            with transaction.atomic():
                plan_mark_submitted(plan=plans["Devon"], user=admins["Devon"], submitted_on=DAY)
                held.set()
                release.wait(30)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    def lock_timeout():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")

    thread = threading.Thread(target=hold_devon)
    thread.start()
    try:
        assert held.wait(30), errors
        with transaction.atomic():
            lock_timeout()
            plan_mark_submitted(plan=plans["Dorset"], user=admins["Dorset"], submitted_on=DAY)
        # The same plan does wait, even for a move its guard would refuse (no date): the lock
        # is taken before anything is checked, so two moves never both see the old state.
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            lock_timeout()
            plan_mark_submitted(plan=plans["Devon"], user=admins["Devon"], submitted_on=None)
    finally:
        release.set()
        thread.join(30)
    assert errors == []
    assert dict(Plan.objects.values_list("area__name", "state")) == {
        "Devon": PlanState.SUBMITTED,
        "Dorset": PlanState.SUBMITTED,
    }
