"""Exporting a plan: the snapshot to write, and the record of who exported what."""

from django.db import transaction

from governance.models import Export
from governance.signoff import plan_snapshot
from plans.constants import PlanState
from plans.exports.excel import plan_workbook
from plans.models import Plan


@transaction.atomic
def plan_export_xlsx(*, plan: Plan, user) -> tuple[bytes, str]:
    """The workbook and its file name. A plan past Drafting exports its sealed version, exactly
    as signed; a plan in Drafting exports the current draft."""
    seal = plan.seals.order_by("-number").first()
    if seal and plan.state != PlanState.DRAFTING:
        snapshot, digest = seal.snapshot, seal.digest
    else:
        snapshot, digest = plan_snapshot(plan, 0), ""
    Export.objects.create(plan=plan, user=user, format="xlsx", seal=digest or "draft")
    name = f"itf-plan-{plan.area.slug}-{plan.round.slug}{'-draft' if not digest else ''}.xlsx"
    return plan_workbook(snapshot, seal=digest), name
