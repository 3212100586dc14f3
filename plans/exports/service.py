"""Exporting a plan: the snapshot to write, and the record of who exported what."""

from django.db import transaction
from django.utils import timezone

from governance.constants import Action
from governance.models import Export
from governance.signoff import plan_snapshot, readiness_checks
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
    workbook = plan_workbook(
        snapshot,
        seal=digest,
        checks=readiness_checks(plan),
        signoff=signoff_rows(plan, seal if digest else None),
    )
    return workbook, name


def signoff_rows(plan: Plan, seal) -> list[tuple]:
    """The template's sign-off block: each CCG and the LA, then the HWB chair."""
    signatures = (
        {s.organisation_id: s for s in seal.signatures.filter(withdrawn_at__isnull=True)}
        if seal
        else {}
    )
    partners = sorted(plan.partner_organisations, key=lambda o: o.is_local_authority)
    rows = []
    for organisation in partners:
        signature = signatures.get(organisation.pk)
        rows.append(
            (
                organisation.name,
                signature.name if signature else "",
                signature.position if signature else "",
                f"{timezone.localtime(signature.signed_at):%d/%m/%Y}" if signature else "",
            )
        )
    approval = plan.decisions.filter(action=Action.APPROVED).select_related("actor").last()
    rows.append(
        (
            "Health and Wellbeing Board",
            (approval.actor.get_full_name() or approval.actor.get_username()) if approval else "",
            "Chair of the Health and Wellbeing Board" if approval else "",
            f"{plan.hwb_agreed_on:%d/%m/%Y}" if plan.hwb_agreed_on else "",
        )
    )
    return rows
