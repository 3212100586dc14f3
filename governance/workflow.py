"""The sign-off workflow as one table: for each move, the states it starts from, the state it
leads to, who may make it and what else must hold.

The move functions in `governance.signoff` check a move against this table before they change
anything, and the pages ask `plan_actions` which buttons to offer, so a state rule is written once.
"""

from collections.abc import Collection
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from governance.constants import Action, Move, Role
from governance.permissions import (
    APPROVE_PLAN,
    EDIT_FINANCE,
    EDIT_PLAN,
    MARK_SUBMITTED,
    REFUSALS,
    REOPEN_PLAN,
    SUBMIT_PLAN,
    has_area_perm,
    organisations_for,
)
from plans.constants import SIGNING_STATES, PlanState
from plans.models import Organisation, Plan
from plans.services import plan_editable


@dataclass(frozen=True)
class Transition:
    move: Move
    sources: tuple[PlanState, ...]
    target: PlanState
    # What the decision log records when the move takes the plan to `target`.
    action: Action
    # The area permission the actor needs. None for signing and declining: those are done for
    # one partner, by a signatory of that partner, and no area-wide permission grants that.
    permission: str | None
    # Finishes "only a plan … can be ___" in the refusal for a wrong state.
    verb: str
    # What the move function checks once state and permission allow the move; they depend on
    # what the person typed and on the sealed version, so they are checked there, not here.
    guards: tuple[str, ...] = ()
    # When set, the move reaches `target` only once this holds, and leaves the state alone until
    # then (each signature counts, the last one moves the plan).
    target_when: str = ""

    def allows(self, state: str) -> bool:
        return state in self.sources

    def wrong_state(self, state: str) -> str:
        return (
            f"The plan is {state_described(state)}: only a plan {_either(self.sources)} "
            f"can be {self.verb}."
        )


WORKFLOW: dict[Move, Transition] = {
    transition.move: transition
    for transition in (
        Transition(
            move=Move.SUBMIT,
            sources=(PlanState.DRAFTING,),
            target=PlanState.AWAITING_SIGNOFF,
            action=Action.SUBMITTED_FOR_SIGNOFF,
            permission=SUBMIT_PLAN,
            verb="submitted for sign-off",
            guards=("every readiness check passes",),
        ),
        Transition(
            move=Move.SIGN,
            sources=(PlanState.AWAITING_SIGNOFF,),
            target=PlanState.SIGNED,
            target_when="every partner has signed the sealed version",
            action=Action.SIGNED_BY_ALL,
            permission=None,
            verb="signed",
            guards=(
                "the signatory's password is right",
                "a position is given",
                "the partner has not signed this sealed version yet",
            ),
        ),
        Transition(
            move=Move.DECLINE,
            sources=(PlanState.AWAITING_SIGNOFF,),
            target=PlanState.DRAFTING,
            action=Action.DECLINED,
            permission=None,
            verb="declined",
            guards=("a reason is given",),
        ),
        Transition(
            move=Move.APPROVE,
            sources=(PlanState.SIGNED,),
            target=PlanState.APPROVED,
            action=Action.APPROVED,
            permission=APPROVE_PLAN,
            verb="approved",
            guards=(
                "the chair's password is right",
                "the date agreed at the Health and Wellbeing Board is given, not in the future",
            ),
        ),
        Transition(
            move=Move.REOPEN,
            sources=SIGNING_STATES,
            target=PlanState.DRAFTING,
            action=Action.REOPENED,
            permission=REOPEN_PLAN,
            verb="reopened",
            guards=("a reason is given",),
        ),
        Transition(
            move=Move.MARK_SUBMITTED,
            sources=(PlanState.APPROVED,),
            target=PlanState.SUBMITTED,
            action=Action.MARKED_SUBMITTED,
            permission=MARK_SUBMITTED,
            verb="marked as submitted",
            guards=("the date submitted is given, not in the future",),
        ),
    )
}


def state_described(state: str) -> str:
    """A state as "a plan …" reads it: "in Drafting", "approved by the Health and Wellbeing
    Board" (the states' labels, but Drafting's, which would read "a plan drafting")."""
    state = PlanState(state)
    if state == PlanState.DRAFTING:
        return "in Drafting"
    return state.label[0].lower() + state.label[1:]


def _either(states: tuple[PlanState, ...]) -> str:
    words = [state_described(state) for state in states]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def permission_check(
    *, user, plan: Plan, move: Move, organisation: Organisation | None = None
) -> None:
    """Refuse (PermissionDenied) a person the table does not let make this move on this plan.
    Signing and declining are for one partner, so they name the organisation."""
    transition = WORKFLOW[move]
    if transition.permission is not None:
        if not has_area_perm(user, transition.permission, plan.area):
            raise PermissionDenied(REFUSALS[transition.permission])
        return
    if organisation is None:
        raise ValueError(f"{move.label} is made for a partner organisation: name it.")
    if organisation.pk not in organisations_for(user, plan.area_id, [Role.SIGNATORY]):
        raise PermissionDenied(f"You are not a signatory for {organisation.name} in this area.")


@dataclass(frozen=True)
class PlanActions:
    """What one person may do with a plan now: the buttons and links its pages offer."""

    moves: frozenset[Move]
    # The partners this person may sign or decline for, when the plan's state allows it.
    partners: frozenset[int]
    import_workbook: bool

    def __contains__(self, move: object) -> bool:
        return move in self.moves


def plan_actions(user, plan: Plan) -> PlanActions:
    """The moves the table lets this person make from the plan's state. Guards are left to the
    move itself: a refused guard says what is missing, where a hidden button would say nothing."""
    possible = [t for t in WORKFLOW.values() if t.allows(plan.state)]
    needs_signatory = any(t.permission is None for t in possible)
    partners = (
        organisations_for(user, plan.area_id, [Role.SIGNATORY]) if needs_signatory else frozenset()
    )

    def may(transition: Transition) -> bool:
        if transition.permission is None:
            return bool(partners)
        return has_area_perm(user, transition.permission, plan.area)

    moves = frozenset(t.move for t in possible if may(t))
    return PlanActions(
        moves=moves,
        partners=partners,
        import_workbook=plan_editable(plan)
        and (
            has_area_perm(user, EDIT_PLAN, plan.area)
            or has_area_perm(user, EDIT_FINANCE, plan.area)
        ),
    )


def partners_to_sign(actions: PlanActions, signed: Collection[int]) -> frozenset[int]:
    """The partners whose signing form this person is shown: theirs to sign for, while the plan
    awaits sign-off, and not signed yet on the current sealed version."""
    if Move.SIGN not in actions:
        return frozenset()
    return actions.partners - frozenset(signed)
