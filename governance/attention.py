"""What a person should do next, for the dashboard's "Needs your attention" panel."""

from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from governance.constants import Action, Move, Role
from governance.models import Decision, Membership, Signature
from governance.monitoring import notices_waiting, returns_waiting
from governance.permissions import ROLE_PERMISSIONS, is_national_admin
from governance.workflow import WORKFLOW
from itf_portal.models import Email
from plans.constants import PartStatus, PlanState
from plans.models import Part, Plan

# Who writes the plan, so who must act on a decline.
AUTHORS = (Role.COMMISSIONER, Role.FINANCE_LEAD, Role.AREA_ADMIN)
# How the panel asks for a move waiting on one person's role, by move.
MOVE_ASKED = {
    Move.APPROVE: "Approve the {area} plan on behalf of the Health and Wellbeing Board",
    Move.MARK_SUBMITTED: "Mark the {area} plan as submitted",
}


def _declined(user, areas: set[int]) -> list[dict]:
    """Plans sent back to drafting by a decline that nobody has resubmitted yet (one query)."""
    last = Decision.objects.filter(plan=OuterRef("pk")).order_by("-at", "-pk")
    plans = (
        Plan.objects.filter(area_id__in=areas, state=PlanState.DRAFTING)
        .annotate(last_action=Subquery(last.values("action")[:1]))
        .annotate(last_reason=Subquery(last.values("reason")[:1]))
        .filter(last_action=Action.DECLINED)
        .select_related("area", "round")
        .order_by("area__name")
    )
    return [
        {
            "text": f"The {plan.area.name} plan was declined ({plan.last_reason}). Change it and "
            "submit it for sign-off again",
            "url": reverse(
                "task_list", kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug}
            ),
            "overdue": False,
        }
        for plan in plans
    ]


def attention_for_user(user) -> list[dict]:
    """Signatures awaited from them, approvals and submissions waiting on their role, a decline
    that sent a plan they write back to drafting, and the parts assigned to them that are not
    complete (overdue ones flagged). A fixed number of queries whatever the number of plans."""
    today = timezone.localdate()
    roles = list(
        Membership.objects.filter(user=user).values_list(
            "role", "partnership__area_id", "partnership__organisation_id"
        )
    )
    signing = {(area, org) for role, area, org in roles if role == Role.SIGNATORY}
    # Which of their areas' plans wait on a move this person's roles allow, as the workflow
    # table says: its states, and the role that holds its permission.
    allowed = {
        move: {
            area for role, area, _ in roles if WORKFLOW[move].permission in ROLE_PERMISSIONS[role]
        }
        for move in MOVE_ASKED
    }
    states = {state for move in (Move.SIGN, *MOVE_ASKED) for state in WORKFLOW[move].sources}
    areas = {area for _, area, _ in roles}
    plans = list(
        Plan.objects.filter(area_id__in=areas, state__in=states)
        .select_related("area", "round")
        .prefetch_related("area__partnerships__organisation")
    )
    # Standing signatures are only ever on a plan's current seal: a decline or reopen withdraws.
    signed = set(
        Signature.objects.filter(seal__plan__in=plans, withdrawn_at__isnull=True).values_list(
            "seal__plan_id", "organisation_id"
        )
    )
    items = []
    for plan in plans:
        url = reverse("signoff", kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug})
        if WORKFLOW[Move.SIGN].allows(plan.state):
            for partnership in plan.area.partnerships.all():
                key = (plan.area_id, partnership.organisation_id)
                if key in signing and (plan.pk, partnership.organisation_id) not in signed:
                    items.append(
                        {
                            "text": f"Sign the {plan.area.name} plan on behalf of "
                            f"{partnership.organisation.name}",
                            "url": url,
                            "overdue": False,
                        }
                    )
        for move, asked in MOVE_ASKED.items():
            if WORKFLOW[move].allows(plan.state) and plan.area_id in allowed[move]:
                items.append(
                    {"text": asked.format(area=plan.area.name), "url": url, "overdue": False}
                )
    items += _declined(user, {area for role, area, _ in roles if role in AUTHORS})
    items += notices_waiting(roles, today)
    items += returns_waiting(user, roles)
    if is_national_admin(user) and (waiting := Email.objects.needing_an_admin().count()):
        items.append(
            {
                "text": f"{waiting} email{'s' if waiting != 1 else ''} could not be sent or "
                "stopped waiting for the task worker: check the mail server and the worker, "
                "then send them again",
                "url": reverse("email_outbox"),
                "overdue": False,
            }
        )
    parts = (
        Part.objects.filter(assignee=user, plan__state=PlanState.DRAFTING)
        .exclude(status=PartStatus.COMPLETE)
        .select_related("plan__area", "plan__round")
        .order_by("due_date", "plan__area__name")
    )
    for part in parts:
        overdue = part.due_date is not None and part.due_date < today
        due = f", due {part.due_date:%d %B %Y}" if part.due_date else ""
        items.append(
            {
                "text": f"{part.get_key_display()} ({part.plan.area.name}){due}",
                "url": reverse(
                    "part",
                    kwargs={
                        "slug": part.plan.area.slug,
                        "round_slug": part.plan.round.slug,
                        "key": part.key,
                    },
                ),
                "overdue": overdue,
            }
        )
    return items
