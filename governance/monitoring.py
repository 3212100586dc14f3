"""In-year monitoring of a submitted plan's pooled fund: its quarterly returns, their variances
against the plan as submitted, and the pool manager's notices to the partners.

A return monitors the plan its partners signed and submitted: the schemes, contributions, measures,
arrangements and partners of its last sealed version, never today's draft. The money rules are in
`finance.rules`; the return's shape in `finance.returns`.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from finance.charts import bar_chart
from finance.models import Allocation, QuarterlyReturn, ReturnComment
from finance.returns import (
    QUARTERS,
    quarter_end,
    quarter_name,
    quarter_start,
    return_changes,
    return_check,
)
from finance.rules import (
    contingency_support,
    notice_needed,
    performance_payments,
    return_figures,
    variance_notice,
)
from finance.services import performance_terms
from governance.constants import Role
from governance.models import (
    Membership,
    NoticeAcknowledgement,
    ReturnSignOff,
    Seal,
    VarianceNotice,
)
from governance.permissions import has_area_perm, organisations_for
from governance.signoff import current_seal
from governance.workflow import state_described
from itf_portal.mail import email_send
from itf_portal.money import money_format
from itf_portal.years import year_label
from plans.constants import APPROVE_PLAN, COMMENT_PLAN, EDIT_FINANCE, PartKey, PlanState
from plans.models import Organisation, Plan
from plans.snapshot import seal_digest, sealed_content, snapshot_frame

# Who answers for a partner to the pool manager: told of a notice, and may acknowledge it.
ACKNOWLEDGERS = (Role.FINANCE_LEAD, Role.SIGNATORY, Role.AREA_ADMIN)


class ReturnConflict(Exception):
    """Someone saved the return after the page was drawn: the current return comes with it."""

    def __init__(self, current: QuarterlyReturn):
        super().__init__("The return was changed by someone else after you opened it.")
        self.current = current


@dataclass(frozen=True)
class Quarter:
    year: int  # the calendar year the financial year starts
    quarter: int

    @property
    def year_label(self) -> str:
        return year_label(self.year)

    @property
    def name(self) -> str:
        return quarter_name(self.year, self.quarter)

    @property
    def starts_on(self) -> date:
        return quarter_start(self.year, self.quarter)

    @property
    def ends_on(self) -> date:
        return quarter_end(self.year, self.quarter)

    @property
    def slug(self) -> str:
        return f"{self.year}-{(self.year + 1) % 100:02d}-q{self.quarter}"


def plan_quarters(plan: Plan) -> list[Quarter]:
    """Every quarter of the plan's years, in order."""
    return [
        Quarter(year, quarter)
        for year in range(plan.round.first_year, plan.round.last_year + 1)
        for quarter in QUARTERS
    ]


def quarter_find(plan: Plan, slug: str) -> Quarter | None:
    return next((q for q in plan_quarters(plan) if q.slug == slug), None)


def quarter_of(found: QuarterlyReturn) -> Quarter:
    """The quarter a return is for (its year kept as its label, "2015/16")."""
    return Quarter(int(found.year[:4]), found.quarter)


def submitted_seal(plan: Plan) -> Seal | None:
    """The sealed version the plan was submitted as, once it is submitted."""
    return current_seal(plan) if plan.state == PlanState.SUBMITTED else None


def return_refusal(plan: Plan, quarter: Quarter, today: date) -> str:
    """Why a return cannot be recorded for this quarter yet, or ""."""
    if plan.state != PlanState.SUBMITTED:
        return (
            "Quarterly returns start once the plan has been submitted to NHS England: this plan "
            f"is {state_described(plan.state)}."
        )
    if quarter.starts_on > today:
        return (
            f"{quarter.name} has not started yet: its return can be recorded from "
            f"{quarter.starts_on:%-d %B %Y}."
        )
    return ""


def figures_for(seal: Seal, year: str, content: dict) -> dict:
    """A return's figures against the submitted version (`finance.rules.return_figures`)."""
    snapshot = seal.snapshot
    parts = {key: part.get("content") or {} for key, part in snapshot["parts"].items()}
    return return_figures(
        schemes=parts.get(PartKey.SCHEMES, {}),
        contributions=parts.get(PartKey.CONTRIBUTIONS, {}),
        arrangements=parts.get(PartKey.ARRANGEMENTS, {}),
        metrics=parts.get(PartKey.METRICS, {}),
        partners=snapshot_frame(snapshot).partner_organisations,
        year=year,
        content=content,
    )


def _recorded_names(content: dict, figures: dict) -> dict:
    """The lines' names recorded beside their positions, so the return reads the same later."""
    schemes = {row["position"]: row["name"] for row in figures["schemes"]}
    measures = {row["position"]: row["name"] for row in figures["metrics"]}
    payers = {row["organisation"]: row["name"] for row in figures["paid"]}
    return {
        **content,
        "schemes": [
            {**line, "name": schemes.get(line["position"], "")}
            for line in content.get("schemes", [])
            if line["position"] in schemes
        ],
        "metrics": [
            {**line, "name": measures.get(line["position"], "")}
            for line in content.get("metrics", [])
            if line["position"] in measures
        ],
        "paid": [
            {**line, "organisation_name": payers.get(line["organisation"], "")}
            for line in content.get("paid", [])
            if line["organisation"] in payers
        ],
    }


def return_named(content: dict, figures: dict) -> dict:
    """A return's content as it is stored: checked, with its lines' names recorded."""
    return return_check(_recorded_names(return_check(content), figures))


def return_save(
    *,
    plan: Plan,
    quarter: Quarter,
    content: dict,
    base_version: int,
    user,
    today: date | None = None,
) -> tuple[QuarterlyReturn, VarianceNotice | None]:
    """Record a quarter's return as a new version, checked as a part's save is: the finance
    lead's or area admin's, for a submitted plan and a quarter that has started, against the
    version the page was drawn from. When its forecast variance asks for it (`notice_needed`),
    the pool manager's notice to every partner is raised in the same transaction and emailed by
    the task worker once it commits. A save that changes nothing makes no new version."""
    today = today or timezone.localdate()
    if not has_area_perm(user, EDIT_FINANCE, plan.area):
        raise PermissionDenied("Only finance leads and the area admin can record a return.")
    with transaction.atomic():
        # The plan first, as every save takes it: two first saves of a return wait in turn.
        plan = (
            Plan.objects.select_for_update(of=("self",))
            .select_related("area", "round")
            .get(pk=plan.pk)
        )
        if problem := return_refusal(plan, quarter, today):
            raise ValidationError(problem)
        seal = submitted_seal(plan)
        assert seal is not None  # a submitted plan has its sealed version
        found, _ = QuarterlyReturn.objects.select_for_update().get_or_create(
            plan=plan, year=quarter.year_label, quarter=quarter.quarter
        )
        if found.version != base_version:
            raise ReturnConflict(found)
        figures = figures_for(seal, quarter.year_label, return_check(content))
        named = return_named(content, figures)
        if found.version and named == found.content:
            return found, None  # nothing changed: no new version, and its sign-off stands
        found.content = named
        found.version += 1
        found.plan = plan
        return_withdraw(found, quarter, user)
        found.updated_at, found.updated_by = timezone.now(), user
        found._change_reason = f"{quarter.name} return saved"
        found._history_user = user
        found.save()
        notice = _notice_raise(plan, seal, found, figures, user, today)
    return found, notice


def _notice_raise(plan, seal, found, figures, user, today) -> VarianceNotice | None:
    arrangements = sealed_content(seal.snapshot, PartKey.ARRANGEMENTS)
    last = (
        VarianceNotice.objects.filter(plan=plan, year=found.year)
        .order_by("-raised_at", "-pk")
        .values_list("overspend", flat=True)
        .first()
    )
    if not notice_needed(figures["overspend"], last, arrangements):
        return None
    terms = variance_notice(figures["overspend"], arrangements, today)
    assert terms is not None  # notice_needed asks the same threshold
    notice = VarianceNotice.objects.create(
        plan=plan,
        quarterly_return=found,
        year=found.year,
        quarter=found.quarter,
        overspend=figures["overspend"],
        pool=figures["pool"],
        forecast=figures["forecast"],
        threshold=terms["threshold"],
        basis=figures["basis"],
        shares=[
            {
                **row,
                "percent": "" if row["percent"] is None else str(row["percent"]),
                "bears": str(row["bears"]),
            }
            for row in figures["split"]
        ],
        raised_on=today,
        due_on=terms["due"],
        raised_by=user,
    )
    _notice_tell(plan, notice)
    return notice


def notice_words(notice: VarianceNotice) -> str:
    """What the notice says: "A forecast over-spend of £26,742,000 in 2015/16"."""
    kind = "over-spend" if notice.is_overspend else "under-spend"
    return f"A forecast {kind} of {money_format(abs(notice.overspend))} in {notice.year}"


def _notice_tell(plan: Plan, notice: VarianceNotice) -> None:
    shares = "\n".join(
        f"- {row['name']}: {money_format(abs(Decimal(row['bears'])))} ({row['percent']}%)"
        for row in notice.shares
    )
    emails = Membership.objects.filter(
        partnership__area=plan.area, role__in=ACKNOWLEDGERS
    ).values_list("user__email", flat=True)
    email_send(
        to=emails,
        subject=f"{plan.area.name}: {notice_words(notice)}, please acknowledge by "
        f"{notice.due_on:%-d %B %Y}",
        body=(
            f"The pool manager's notice to the partners of the {plan.area.name} pooled fund.\n\n"
            f"{notice_words(notice)} (quarter {notice.quarter} return): forecast net spend of "
            f"{money_format(notice.forecast)} against a pooled budget of "
            f"{money_format(notice.pool)}. It is at or beyond the materiality threshold of "
            f"{money_format(notice.threshold)} a year, so it is a material change to the "
            "section 75 agreement, and the partners prepare a joint action plan.\n\n"
            f"Shared by {notice.basis}:\n{shares}\n\n"
            f"Each partner is asked to acknowledge it by {notice.due_on:%-d %B %Y}."
        ),
        path=monitoring_path(plan),
    )


def monitoring_path(plan: Plan) -> str:
    return reverse("monitoring", kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug})


def return_path(plan: Plan, quarter: Quarter) -> str:
    return reverse(
        "quarterly_return",
        kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug, "quarter": quarter.slug},
    )


def may_acknowledge(user, plan: Plan) -> frozenset[int]:
    """The partners this person answers for in the plan's area (as finance lead, signatory or
    area admin of that partner)."""
    return organisations_for(user, plan.area_id, ACKNOWLEDGERS)


def notice_acknowledge(
    *, notice: VarianceNotice, organisation: Organisation, user
) -> tuple[NoticeAcknowledgement, bool]:
    """A partner acknowledges a notice, by one of the people who answer for it. A second
    acknowledgement of the same notice for the same partner changes nothing: the first stands.
    Returns the acknowledgement and whether it is new."""
    if organisation.pk not in may_acknowledge(user, notice.plan):
        raise PermissionDenied(
            f"Only the finance lead, a signatory or the area admin of {organisation.name} can "
            "acknowledge this notice for it."
        )
    if organisation.pk not in {row["organisation"] for row in notice.shares}:
        raise ValidationError(f"{organisation.name} is not a partner in this pooled fund.")
    try:
        with transaction.atomic():
            return NoticeAcknowledgement.objects.create(
                notice=notice, organisation=organisation, user=user
            ), True
    except IntegrityError:
        return NoticeAcknowledgement.objects.get(notice=notice, organisation=organisation), False


def monitoring_overview(plan: Plan, user, today: date | None = None) -> dict:
    """The monitoring page: every quarter with its return (or why there is none yet), the
    latest return's figures for each year, and the notices with each partner's acknowledgement
    (and which this person may give; no one's for the printed report, `user` None). A fixed
    number of queries whatever the number of schemes, returns or notices."""
    today = today or timezone.localdate()
    seal = submitted_seal(plan)
    returns = {
        (r.year, r.quarter): r
        for r in QuarterlyReturn.objects.filter(plan=plan).select_related("updated_by")
    }
    quarters = [
        {
            "quarter": quarter,
            "return": returns.get((quarter.year_label, quarter.quarter)),
            "refusal": return_refusal(plan, quarter, today),
        }
        for quarter in plan_quarters(plan)
    ]
    by_year = _figures_by_year(seal, plan, returns) if seal is not None else {}
    return {
        "submitted": seal is not None,
        "state": state_described(plan.state),
        "quarters": quarters,
        "years": _years_shown(by_year),
        "performance": _performance_shown(plan, seal, by_year) if seal is not None else [],
        "notices": _notices_shown(plan, user, today),
        "may_record": user is not None and has_area_perm(user, EDIT_FINANCE, plan.area),
    }


def _figures_by_year(seal: Seal, plan: Plan, returns: dict) -> dict[str, list[tuple]]:
    """Each year's returns, in order, with their figures against the submitted version."""
    by_year: dict[str, list[tuple[Quarter, dict]]] = {}
    for quarter in plan_quarters(plan):
        found = returns.get((quarter.year_label, quarter.quarter))
        if found is not None and found.version:
            figures = figures_for(seal, quarter.year_label, found.content)
            by_year.setdefault(quarter.year_label, []).append((quarter, figures))
    return by_year


def _years_shown(by_year: dict[str, list[tuple]]) -> list[dict]:
    """For each year with a return: the latest return's figures, and charts of the pooled
    budget and the plan against each quarter's forecast and spend to date."""
    years = []
    for year, shown in by_year.items():
        latest_quarter, latest = shown[-1]
        forecasts = bar_chart(
            f"{year}: the pooled budget and the plan against each quarter's forecast",
            [
                ("Pooled budget", latest["pool"]),
                ("Planned net spend", latest["planned"]),
                *((f"Forecast at quarter {q.quarter}", f["forecast"]) for q, f in shown),
            ],
            in_order=True,
        )
        spent = bar_chart(
            f"{year}: net spend to date at each quarter's end",
            [(f"Spent by {q.ends_on:%-d %B %Y}", f["spent"]) for q, f in shown],
            in_order=True,
        )
        years.append({"quarter": latest_quarter, "figures": latest, "charts": [forecasts, spent]})
    return years


def _notices_shown(plan: Plan, user, today: date) -> list[dict]:
    """The plan's notices, newest first, each partner's share with its acknowledgement and
    whether this person may give it."""
    notices = (
        VarianceNotice.objects.filter(plan=plan)
        .select_related("raised_by")
        .prefetch_related(
            Prefetch(
                "acknowledgements",
                queryset=NoticeAcknowledgement.objects.select_related("user", "organisation"),
            )
        )
    )
    mine = may_acknowledge(user, plan)
    shown = []
    for notice in notices:
        done = {ack.organisation_id: ack for ack in notice.acknowledgements.all()}
        partners = [
            {
                "organisation": row["organisation"],
                "name": row["name"],
                "percent": row["percent"],
                "bears": abs(Decimal(row["bears"])),
                "acknowledged": done.get(row["organisation"]),
                "mine": row["organisation"] in mine,
            }
            for row in notice.shares
        ]
        waiting = [p for p in partners if not p["acknowledged"]]
        shown.append(
            {
                "notice": notice,
                "words": notice_words(notice),
                "partners": partners,
                "waiting": waiting,
                "overdue": bool(waiting) and notice.due_on < today,
            }
        )
    return shown


def notices_waiting(roles: list[tuple], today: date) -> list[dict]:
    """For "Needs your attention": the notices a partner this person answers for has not yet
    acknowledged (`roles`: their (role, area, organisation) memberships; two queries whatever
    the number of notices, none if they answer for no partner)."""
    answers_for = {(area, org) for role, area, org in roles if role in ACKNOWLEDGERS}
    if not answers_for:
        return []
    notices = (
        VarianceNotice.objects.filter(plan__area_id__in={area for area, _ in answers_for})
        .select_related("plan__area", "plan__round")
        .prefetch_related("acknowledgements")
        .order_by("due_on", "pk")
    )
    items = []
    for notice in notices:
        done = {ack.organisation_id for ack in notice.acknowledgements.all()}
        for row in notice.shares:
            if (notice.plan.area_id, row["organisation"]) in answers_for and row[
                "organisation"
            ] not in done:
                items.append(
                    {
                        "text": f"Acknowledge the {notice.plan.area.name} pool manager's notice "
                        f"for {row['name']}: {notice_words(notice)[0].lower()}"
                        f"{notice_words(notice)[1:]}, due {notice.due_on:%-d %B %Y}",
                        "url": monitoring_path(notice.plan),
                        "overdue": notice.due_on < today,
                    }
                )
    return items


HISTORY_SHOWN = 10


def return_history(found: QuarterlyReturn | None) -> list[dict]:
    """The return's latest versions, newest first: who saved each, when, and what it changed
    (one query)."""
    if found is None:
        return []
    records = list(
        found.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : HISTORY_SHOWN + 1
        ]
    )
    shown = []
    for record, before in zip(records, [*records[1:], None], strict=True):
        if record.version == 0:
            continue  # the empty return made by the first save, before its figures
        shown.append(
            {
                "version": record.version,
                "user": record.history_user,
                "at": record.history_date,
                "changes": return_changes(before.content if before else {}, record.content),
            }
        )
    return shown[:HISTORY_SHOWN]


# ---- Sign-off of a return ----------------------------------------------------------------------

# Who confirms a return's figures for their partner.
CONFIRMERS = (Role.FINANCE_LEAD,)


def return_digest(found: QuarterlyReturn) -> str:
    """The digest of a return's version, which confirmations are given to (as a signature is
    to a seal): its plan, quarter, version and content."""
    return seal_digest(
        {
            "plan": found.plan_id,
            "year": found.year,
            "quarter": found.quarter,
            "version": found.version,
            "content": found.content,
        }
    )


def _partners_of(seal: Seal) -> list[dict]:
    return list(seal.snapshot.get("partners", []))


def return_withdraw(found: QuarterlyReturn, quarter: Quarter, user) -> int:
    """Withdraw every standing confirmation and note of a return its figures have changed
    under (kept, marked withdrawn), and tell the people who gave them, by the task worker."""
    standing = ReturnSignOff.objects.filter(quarterly_return=found, withdrawn_at__isnull=True)
    emails = list(standing.values_list("user__email", flat=True))
    withdrawn = standing.update(
        withdrawn_at=timezone.now(),
        withdrawn_reason=f"The return was changed (version {found.version}).",
    )
    if withdrawn:
        plan = found.plan
        email_send(
            to=emails,
            subject=f"{plan.area.name}: the {quarter.name} return has changed since you "
            "signed it off",
            body=(
                f"{user.get_full_name() or user.get_username()} saved version {found.version} "
                f"of the {plan.area.name} return for {quarter.name} after you had confirmed or "
                "noted it, so your sign-off has been withdrawn (it is kept in the return's "
                "record). Read the return again and confirm or note it."
            ),
            path=return_path(plan, quarter),
        )
    return withdrawn


def _still_to_confirm(partners: list[dict], standing) -> list[str]:
    """The sealed partners with no standing confirmation among `standing` (sign-offs)."""
    done = {s.organisation_id for s in standing}
    return [p["name"] for p in partners if p["id"] not in done]


def _confirmed_by(standing, user) -> bool:
    """Whether this person gave one of the standing confirmations: then they may not also note
    the return for the Board."""
    return any(s.user_id == user.pk for s in standing)


def _locked_return(found: QuarterlyReturn) -> QuarterlyReturn:
    return (
        QuarterlyReturn.objects.select_for_update(of=("self",))
        .select_related("plan__area", "plan__round")
        .get(pk=found.pk)
    )


def _read_check(found: QuarterlyReturn, read_digest: str) -> None:
    if not found.version:
        raise ValidationError("Nothing has been recorded in this return yet.")
    if read_digest != return_digest(found):
        raise ValidationError(
            f"The return has changed since you opened it (it is now version {found.version}, "
            f"saved by {found.updated_by.get_full_name() if found.updated_by else 'someone'}): "
            "read it again before you confirm or note it."
        )


def return_confirm(
    *, found: QuarterlyReturn, organisation: Organisation, user, read_digest: str
) -> tuple[ReturnSignOff, bool]:
    """A partner's finance lead confirms the figures of the version they read. Confirming a
    version twice changes nothing. Returns the confirmation and whether it is new."""
    with transaction.atomic():
        found = _locked_return(found)
        if organisation.pk not in organisations_for(user, found.plan.area_id, CONFIRMERS):
            raise PermissionDenied(
                f"Only a finance lead of {organisation.name} can confirm the return for it."
            )
        seal = submitted_seal(found.plan)
        if seal is None or organisation.pk not in {p["id"] for p in _partners_of(seal)}:
            raise ValidationError(f"{organisation.name} is not a partner in this pooled fund.")
        _read_check(found, read_digest)
        standing = ReturnSignOff.objects.filter(
            quarterly_return=found,
            kind=ReturnSignOff.CONFIRMED,
            organisation=organisation,
            withdrawn_at__isnull=True,
        ).first()
        if standing is not None:
            return standing, False
        return ReturnSignOff.objects.create(
            quarterly_return=found,
            kind=ReturnSignOff.CONFIRMED,
            version=found.version,
            digest=read_digest,
            organisation=organisation,
            user=user,
        ), True


def return_note(*, found: QuarterlyReturn, user, read_digest: str) -> tuple[ReturnSignOff, bool]:
    """The Health and Wellbeing Board chair notes the version every partner has confirmed; a
    person who confirmed it for a partner cannot also note it. Noting twice changes nothing."""
    with transaction.atomic():
        found = _locked_return(found)
        if not has_area_perm(user, APPROVE_PLAN, found.plan.area):
            raise PermissionDenied(
                "Only the chair of the Health and Wellbeing Board can note the return."
            )
        _read_check(found, read_digest)
        standing = list(
            ReturnSignOff.objects.filter(quarterly_return=found, withdrawn_at__isnull=True)
        )
        noted = next((s for s in standing if s.kind == ReturnSignOff.NOTED), None)
        if noted is not None:
            return noted, False
        seal = submitted_seal(found.plan)
        waiting = _still_to_confirm(_partners_of(seal), standing) if seal else []
        if waiting:
            raise ValidationError(
                "Every partner's finance lead confirms the return before the chair notes it: "
                f"still to confirm, {', '.join(waiting)}."
            )
        if _confirmed_by(standing, user):
            raise PermissionDenied(
                "You confirmed this return for a partner, so you cannot also note it for the "
                "Board: another chair notes it."
            )
        return ReturnSignOff.objects.create(
            quarterly_return=found,
            kind=ReturnSignOff.NOTED,
            version=found.version,
            digest=read_digest,
            user=user,
        ), True


def return_signoff(found: QuarterlyReturn | None, user, seal: Seal | None) -> dict | None:
    """The return's sign-off as its page shows it: each partner's confirmation (or who may give
    it), the chair's note (and whether this person may give it), and what was withdrawn."""
    if found is None or not found.version or seal is None:
        return None
    signoffs = list(
        ReturnSignOff.objects.filter(quarterly_return=found).select_related("user", "organisation")
    )
    standing = {s.organisation_id: s for s in signoffs if s.withdrawn_at is None}
    mine = organisations_for(user, found.plan.area_id, CONFIRMERS)
    partners = [
        {
            "organisation": p["id"],
            "name": p["name"],
            "confirmed": standing.get(p["id"]),
            "mine": p["id"] in mine,
        }
        for p in _partners_of(seal)
    ]
    everyone = not _still_to_confirm(_partners_of(seal), standing.values())
    return {
        "digest": return_digest(found),
        "partners": partners,
        "everyone": everyone,
        "noted": standing.get(None),
        # The chair may note it unless they confirmed it for a partner (`return_note`).
        "may_note": user is not None
        and everyone
        and None not in standing
        and not _confirmed_by(standing.values(), user)
        and has_area_perm(user, APPROVE_PLAN, found.plan.area),
        "withdrawn": [s for s in signoffs if s.withdrawn_at is not None],
    }


def returns_waiting(user, roles: list[tuple]) -> list[dict]:
    """For "Needs your attention": the returns a partner's finance lead is still to confirm for
    it, and those every partner has confirmed that the chair is still to note (`roles`: the
    person's (role, area, organisation) memberships; three queries whatever the number of
    returns, none for a person who neither confirms nor notes)."""
    roles = [entry for entry in roles if entry[0] in (*CONFIRMERS, Role.HWB_CHAIR)]
    if not roles:
        return []
    confirming = {(area, org) for role, area, org in roles if role in CONFIRMERS}
    chairing = {area for role, area, _ in roles if role == Role.HWB_CHAIR}
    returns = list(
        QuarterlyReturn.objects.filter(
            plan__area_id__in={area for _, area, _ in roles},
            plan__state=PlanState.SUBMITTED,
            version__gt=0,
        )
        .select_related("plan__area", "plan__round")
        .defer("content")  # what it asks is who has confirmed, never the figures
        .prefetch_related(
            Prefetch(
                "signoffs",
                queryset=ReturnSignOff.objects.filter(withdrawn_at__isnull=True),
                to_attr="standing",
            )
        )
        .order_by("plan__area__name", "year", "quarter")
    )
    # Of each plan's latest seal only its partners, not the whole snapshot.
    partners = dict(
        Seal.objects.filter(plan__in={r.plan_id for r in returns})
        .order_by("plan", "-number")
        .distinct("plan")
        .values_list("plan_id", "snapshot__partners")
    )
    items = []
    for found in returns:
        plan = found.plan
        quarter = quarter_of(found)
        done = {s.organisation_id for s in found.standing}
        url = return_path(plan, quarter)
        sealed = partners.get(plan.pk) or []
        for partner in sealed:
            if (plan.area_id, partner["id"]) in confirming and partner["id"] not in done:
                items.append(
                    {
                        "text": f"Confirm the {plan.area.name} return for {quarter.name} for "
                        f"{partner['name']}",
                        "url": url,
                        "overdue": False,
                    }
                )
        everyone = sealed and not _still_to_confirm(sealed, found.standing)
        if (
            plan.area_id in chairing
            and everyone
            and None not in done
            and not _confirmed_by(found.standing, user)
        ):
            items.append(
                {
                    "text": f"Note the {plan.area.name} return for {quarter.name} for the Health "
                    "and Wellbeing Board",
                    "url": url,
                    "overdue": False,
                }
            )
    return items


def monitoring_summaries(seals: dict[int, Seal]) -> dict[int, dict]:
    """For the national composite, each submitted plan's latest return against its sealed
    version (`seals`, by plan): its figures, its latest notice and who has still to acknowledge
    it, and its sign-off. Four queries whatever the number of plans."""
    plan_ids = list(seals)
    if not plan_ids:
        return {}
    latest = (
        QuarterlyReturn.objects.filter(
            plan_id__in=plan_ids, plan__state=PlanState.SUBMITTED, version__gt=0
        )
        .order_by("plan_id", "-year", "-quarter")
        .distinct("plan_id")
        .prefetch_related(
            Prefetch(
                "signoffs",
                queryset=ReturnSignOff.objects.filter(withdrawn_at__isnull=True),
                to_attr="standing",
            )
        )
    )
    notices = {
        notice.plan_id: notice
        for notice in VarianceNotice.objects.filter(plan_id__in=plan_ids)
        .order_by("plan_id", "-raised_at", "-pk")
        .distinct("plan_id")
        .prefetch_related("acknowledgements")
    }
    summaries = {}
    for found in latest:
        seal = seals[found.plan_id]
        partners = _partners_of(seal)
        notice = notices.get(found.plan_id)
        if notice is not None and notice.year != found.year:
            notice = None  # a notice of another year is not about this return's forecast
        acknowledged = (
            {a.organisation_id for a in notice.acknowledgements.all()} if notice else set()
        )
        summaries[found.plan_id] = {
            "quarter": quarter_of(found),
            "return": found,
            "figures": figures_for(seal, found.year, found.content),
            "notice": notice,
            "waiting": [
                row["name"] for row in notice.shares if row["organisation"] not in acknowledged
            ]
            if notice
            else [],
            "confirmed": bool(partners) and not _still_to_confirm(partners, found.standing),
            "noted": next((s for s in found.standing if s.kind == ReturnSignOff.NOTED), None),
        }
    return summaries


def _performance_shown(plan: Plan, seal: Seal, by_year: dict[str, list[tuple]]) -> list[dict]:
    """For each year with an element paid for performance: its two payments, worked out from
    the latest actuals of the returns (`by_year`: each year's returns' figures, in order), and
    what the contingency plan says is needed if targets are missed (two queries)."""
    allocations = Allocation.objects.filter(
        area_id=plan.area_id, round_id=plan.round_id, performance_element__gt=0
    ).order_by("year")
    terms = performance_terms(plan.round) if allocations else []
    results = {}
    for year, shown in by_year.items():
        latest: dict[str, dict] = {}
        for _, figures in shown:
            for row in figures["metrics"]:
                if row["actual"] is not None:
                    latest[row["name"]] = row
        results[year] = list(latest.values())
    contingency = sealed_content(seal.snapshot, PartKey.CONTINGENCY)
    return [
        {
            "year": allocation.year_label,
            "element": allocation.performance_element,
            "payments": performance_payments(
                element=allocation.performance_element,
                year=allocation.year_label,
                previous=year_label(allocation.year - 1),
                terms=terms,
                results=results,
            ),
            "contingency": contingency_support(contingency, allocation.year_label),
        }
        for allocation in allocations
    ]


COMMENTS_SHOWN = 50


def return_comment_add(*, found: QuarterlyReturn, author, text: str) -> ReturnComment:
    """A comment on a recorded return, by a member of its area."""
    if not has_area_perm(author, COMMENT_PLAN, found.plan.area):
        raise PermissionDenied("Only members of this area can comment on its returns.")
    comment = ReturnComment(quarterly_return=found, author=author, text=text.strip())
    comment.full_clean()
    comment.save()
    return comment


def return_comments(found: QuarterlyReturn | None) -> tuple[list[ReturnComment], int]:
    """The return's latest comments, oldest first, and how many there are (two queries)."""
    if found is None:
        return [], 0
    comments = found.comments.select_related("author")
    latest = list(comments.order_by("-created_at", "-pk")[:COMMENTS_SHOWN])[::-1]
    return latest, len(latest) if len(latest) < COMMENTS_SHOWN else comments.count()
