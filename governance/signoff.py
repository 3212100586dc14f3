"""Sign-off: the readiness checks, the sealed version, and every move of a plan between states.

Each move is one atomic function: it locks the plan row, asks the workflow table
(`governance.workflow`) whether this actor may make it from the plan's state, checks its guards,
records the decision in the append-only log, and sends its emails only once the move has been
committed.
"""

from dataclasses import replace

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet
from django.urls import reverse
from django.utils import timezone

from finance.services import plan_fund_summary, plan_snapshot_now
from governance.constants import Move, Role
from governance.lockout import account_locked
from governance.models import Decision, Membership, Seal, Signature
from governance.workflow import WORKFLOW, permission_check
from itf_portal.mail import email_send
from plans.checks import Check
from plans.constants import PartStatus
from plans.models import Plan
from plans.snapshot import seal_digest
from plans.template import PARTS


def decision_log(plan: Plan) -> list[dict]:
    """The plan's decisions, each signature and each withdrawal of a signature, in time order
    (two queries whatever their number)."""
    # A seal's snapshot (every part of the plan) is not what the log shows: left unread.
    entries: list[dict] = [
        {"at": decision.at, "decision": decision}
        for decision in plan.decisions.select_related("actor", "seal").defer("seal__snapshot")
    ]
    signatures = Signature.objects.filter(seal__plan=plan).select_related("seal", "organisation")
    for signature in signatures.defer("seal__snapshot"):
        entries.append({"at": signature.signed_at, "signature": signature})
        if signature.withdrawn_at:
            entries.append({"at": signature.withdrawn_at, "withdrawn": signature})
    return sorted(entries, key=lambda entry: entry["at"])


class StateConflict(Exception):
    """The plan is not in a state this move can start from (HTTP 409 in views)."""


def readiness_checks(plan: Plan) -> list[Check]:
    """Everything that must be true before a plan can be submitted for sign-off."""
    parts = {part.key: part for part in plan.parts.all()}
    checks = [
        Check(
            f"{spec.title} is complete",
            parts[spec.key].status == PartStatus.COMPLETE,
            f"“{spec.title}” is {parts[spec.key].get_status_display().lower()}."
            if parts[spec.key].status != PartStatus.COMPLETE
            else f"“{spec.title}” is complete.",
            spec.key,
        )
        for spec in PARTS
    ]
    for spec in PARTS:  # each part's own rules, from its description
        checks += [
            replace(check, part=spec.key)
            for check in spec.content.checks(parts[spec.key].content, plan.round.year_labels)
        ]
    fund = plan_fund_summary(plan)
    unset = [row["year"] for row in fund["years"] if row["minimum"] is None]
    checks.append(
        Check(
            "The minimum pooled budget is set for every year",
            not unset,
            f"NHS England has not set the minimum for {', '.join(unset)} yet: a national admin "
            "sets it on the Allocations page, and nobody in the area can change it."
            if unset
            else "The minimum is set for every year.",
        )
    )
    checks += fund["checks"]
    signatories = set(
        Membership.objects.filter(partnership__area=plan.area, role=Role.SIGNATORY).values_list(
            "partnership__organisation_id", flat=True
        )
    )
    for organisation in plan.partner_organisations:
        has = organisation.pk in signatories
        checks.append(
            Check(
                f"{organisation.name} has a signatory",
                has,
                f"{organisation.name} has a signatory."
                if has
                else f"{organisation.name} has no signatory yet: the area admin can add one.",
            )
        )
    return checks


def _locked(plan: Plan) -> Plan:
    # Only the plan's own row: a bare FOR UPDATE would also lock the joined area and planning
    # round rows, and every area's moves would queue on the one round they share.
    return (
        Plan.objects.select_for_update(of=("self",)).select_related("area", "round").get(pk=plan.pk)
    )


def _begin(plan: Plan, move: Move, user, *, organisation=None) -> Plan:
    """The plan, locked, once the table lets this person make the move from its state.
    Permission comes first, so a person who may not make the move learns nothing of the state."""
    plan = _locked(plan)
    permission_check(user=user, plan=plan, move=move, organisation=organisation)
    transition = WORKFLOW[move]
    if not transition.allows(plan.state):
        raise StateConflict(transition.wrong_state(plan.state))
    return plan


def _move(plan: Plan, move: Move, *, actor, reason: str = "", seal=None) -> None:
    transition = WORKFLOW[move]
    Decision.objects.create(
        plan=plan,
        actor=actor,
        action=transition.action,
        from_state=plan.state,
        to_state=transition.target,
        reason=reason,
        seal=seal,
    )
    plan.state = transition.target
    plan.save(update_fields=["state"])


@transaction.atomic
def plan_submit_for_signoff(*, plan: Plan, user) -> Seal:
    plan = _begin(plan, Move.SUBMIT, user)
    failing = [check.message for check in readiness_checks(plan) if not check.passed]
    if failing:
        raise ValidationError(failing)
    number = (plan.seals.aggregate(last=Max("number"))["last"] or 0) + 1
    snapshot = plan_snapshot_now(plan, number)
    seal = Seal.objects.create(
        plan=plan, number=number, snapshot=snapshot, digest=seal_digest(snapshot), created_by=user
    )
    _move(plan, Move.SUBMIT, actor=user, seal=seal)
    _tell(
        _emails(plan, Role.SIGNATORY),
        f"The {plan.area.name} ITF plan is ready for you to sign",
        f"The {plan.area.name} plan has been submitted for sign-off as sealed version {number} "
        f"(seal {seal.digest}). Sign in to ITF Portal to read it and sign for your organisation.",
        plan,
    )
    return seal


def plan_reopen(*, plan: Plan, user, reason: str, password: str, request=None) -> None:
    """Take the plan back to Drafting: every signature on its sealed version is withdrawn, so the
    person confirms with their password, as for a signature."""
    _password_check(request, user, password)  # outside the transaction, as for signatures
    _plan_reopen(plan=plan, user=user, reason=reason)


@transaction.atomic
def _plan_reopen(*, plan: Plan, user, reason: str) -> None:
    plan = _begin(plan, Move.REOPEN, user)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the plan is being reopened."})
    seal = current_seal(plan)
    _withdraw(seal, f"Reopened for editing: {reason.strip()}")
    _move(plan, Move.REOPEN, actor=user, reason=reason.strip(), seal=seal)
    # The Board agreed the version now reopened, not whatever is sealed next: its date stays in
    # the decision log with that version, never on the next version's cover.
    plan.hwb_agreed_on = None
    plan.save(update_fields=["hwb_agreed_on"])
    _tell(
        _emails(plan, Role.SIGNATORY),
        f"The {plan.area.name} ITF plan has been reopened for editing",
        f"The {plan.area.name} plan was reopened for editing, so sealed version "
        f"{seal.number if seal else ''} will not be signed. Reason: {reason.strip()}",
        plan,
        "task_list",
    )


def current_seal(plan: Plan) -> Seal | None:
    return plan.seals.order_by("-number").first()


def _seal_being_signed(plan: Plan) -> Seal:
    """The sealed version a plan awaiting sign-off is signed or declined on: submitting made it."""
    seal = current_seal(plan)
    if seal is None:
        raise StateConflict("The plan has no sealed version to sign or decline.")
    return seal


class VersionChanged(ValidationError):
    """The person read another sealed version than the one the plan is now at."""


def _read_check(seal: Seal, read_seal: str, verb: str) -> None:
    """Refuse a move made on a version other than the one read: say which, and what changed."""
    if not read_seal or read_seal == seal.digest:
        return
    read = Seal.objects.filter(plan_id=seal.plan_id, digest=read_seal).first()
    what = f"sealed version {read.number}" if read else "another version"
    changed = _changed(read.snapshot if read else {}, seal.snapshot)
    raise VersionChanged(
        f"You read {what}, but the plan has since been reopened and sealed again as version "
        f"{seal.number}"
        + (f", with changes to: {', '.join(changed)}" if changed else "")
        + f". Nothing has been recorded. Read version {seal.number} below before you {verb}."
    )


def _changed(old: dict, new: dict) -> list[str]:
    """The parts (and the partners or allocations) that differ between two snapshots."""
    titles = {spec.key: spec.title for spec in PARTS}
    old_parts, new_parts = old.get("parts", {}), new.get("parts", {})
    found = [
        titles.get(key, key)
        for key in titles
        if ((old_parts.get(key) or {}).get("content") or {})
        != ((new_parts.get(key) or {}).get("content") or {})
    ]
    if old.get("partners") != new.get("partners"):
        found.append("the partners")
    if old.get("allocations") != new.get("allocations"):
        found.append("the minimum pooled budget")
    return found


def _sealed_partners(seal: Seal) -> set[int]:
    """The partners a version was sealed with: each of them signs it."""
    return {partner["id"] for partner in seal.snapshot.get("partners", [])}


def _active_signatures(seal: Seal) -> QuerySet[Signature]:
    return seal.signatures.filter(withdrawn_at__isnull=True)


def _password_check(request, user, password: str) -> None:
    # Through authenticate(), so a wrong password counts towards the sign-in lockout, and never
    # while the account is locked: a password guessed at sign-in from many addresses must not be
    # tried here instead.
    if locked := account_locked(user.get_username()):
        raise ValidationError({"password": f"{locked} Nothing has been recorded."})
    if authenticate(request, username=user.get_username(), password=password) is None:
        raise ValidationError({"password": "The password is wrong. Nothing has been recorded."})


def _withdraw(seal: Seal | None, reason: str) -> int:
    if seal is None:
        return 0
    return _active_signatures(seal).update(withdrawn_at=timezone.now(), withdrawn_reason=reason)


def _tell(emails, subject: str, body: str, plan: Plan, page: str = "signoff") -> None:
    """Email the people concerned, with the link to the plan's page the email is about."""
    path = reverse(page, kwargs={"slug": plan.area.slug, "round_slug": plan.round.slug})
    email_send(to=emails, subject=subject, body=body, path=path)


def _emails(plan: Plan, role: str):
    return Membership.objects.filter(partnership__area=plan.area, role=role).values_list(
        "user__email", flat=True
    )


def signature_add(
    *,
    plan: Plan,
    user,
    organisation,
    password: str,
    position: str,
    request=None,
    read_seal: str = "",
) -> Signature:
    """Sign the current sealed version on behalf of one partner organisation. `read_seal` is the
    digest of the version the person read (the sign form carries it): any other is refused."""
    # The password is checked outside the transaction, so that a wrong one is still counted by
    # the sign-in lockout when the signing is refused and rolled back.
    _password_check(request, user, password)
    return _signature_add(
        plan=plan, user=user, organisation=organisation, position=position, read_seal=read_seal
    )


@transaction.atomic
def _signature_add(*, plan: Plan, user, organisation, position: str, read_seal: str) -> Signature:
    plan = _begin(plan, Move.SIGN, user, organisation=organisation)
    if not position.strip():
        raise ValidationError({"position": "Confirm your position (job title)."})
    seal = _seal_being_signed(plan)
    _read_check(seal, read_seal, "sign")
    sealed = _sealed_partners(seal)
    if organisation.pk not in sealed:
        raise ValidationError(
            f"{organisation.name} was not a partner when this version was sealed, so it does not "
            "sign it. The plan can be reopened to include it."
        )
    other = _active_signatures(seal).filter(user=user).exclude(organisation=organisation).first()
    if other:
        raise ValidationError(
            f"You have already signed this version for {other.organisation.name}. One person "
            "signs for one partner: another signatory must sign for "
            f"{organisation.name}."
        )
    existing = _active_signatures(seal).filter(organisation=organisation).first()
    if existing:
        raise ValidationError(
            f"{organisation.name} has already signed this version ({existing.name}, "
            f"{timezone.localtime(existing.signed_at):%d %B %Y %H:%M})."
        )
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                seal=seal,
                organisation=organisation,
                user=user,
                name=user.get_full_name() or user.get_username(),
                position=position.strip(),
            )
    except IntegrityError as error:  # the same partner signing at the same moment
        raise ValidationError(f"{organisation.name} has already signed this version.") from error
    signed = set(_active_signatures(seal).values_list("organisation_id", flat=True))
    # Every partner the version was sealed with, whoever the area's partners are now.
    if sealed <= signed:
        _move(plan, Move.SIGN, actor=user, seal=seal)
        _tell(
            _emails(plan, Role.HWB_CHAIR),
            f"The {plan.area.name} ITF plan is signed by every partner",
            f"Every partner has signed sealed version {seal.number} (seal {seal.digest}). "
            "It is ready for approval on behalf of the Health and Wellbeing Board.",
            plan,
        )
    return signature


def plan_decline(
    *,
    plan: Plan,
    user,
    organisation,
    reason: str,
    password: str,
    request=None,
    read_seal: str = "",
) -> None:
    """A signatory declines: the plan goes back to Drafting and every signature on the sealed
    version is withdrawn (kept, marked withdrawn), so they confirm with their password."""
    _password_check(request, user, password)  # outside the transaction, as for signatures
    _plan_decline(
        plan=plan, user=user, organisation=organisation, reason=reason, read_seal=read_seal
    )


@transaction.atomic
def _plan_decline(*, plan: Plan, user, organisation, reason: str, read_seal: str) -> None:
    plan = _begin(plan, Move.DECLINE, user, organisation=organisation)
    if not reason.strip():
        raise ValidationError(
            {"reason": "Say why you are declining, so the authors can act on it."}
        )
    seal = _seal_being_signed(plan)
    _read_check(seal, read_seal, "decline")
    _withdraw(seal, f"Declined by {organisation.name}: {reason.strip()}")
    logged = f"{organisation.name}: {reason.strip()}"
    _move(plan, Move.DECLINE, actor=user, reason=logged, seal=seal)
    _tell(
        [*_emails(plan, Role.COMMISSIONER), *_emails(plan, Role.AREA_ADMIN)],
        f"{organisation.name} declined to sign the {plan.area.name} ITF plan",
        f"{organisation.name} declined sealed version {seal.number}. Reason: {reason.strip()}\n"
        "The plan is back in Drafting.",
        plan,
    )


def plan_approve(
    *, plan: Plan, user, password: str, agreed_on, request=None, read_seal: str = ""
) -> None:
    _password_check(request, user, password)  # outside the transaction, as for signatures
    _plan_approve(plan=plan, user=user, agreed_on=agreed_on, read_seal=read_seal)


@transaction.atomic
def _plan_approve(*, plan: Plan, user, agreed_on, read_seal: str) -> None:
    plan = _begin(plan, Move.APPROVE, user)
    if agreed_on is None:
        raise ValidationError(
            {"agreed_on": "Enter the date agreed at the Health and Wellbeing Board."}
        )
    if agreed_on > timezone.localdate():
        raise ValidationError({"agreed_on": "The date agreed cannot be in the future."})
    seal = current_seal(plan)
    if seal is not None:
        _read_check(seal, read_seal, "approve")
    signed = _active_signatures(seal).filter(user=user).first() if seal else None
    if signed:
        raise ValidationError(
            f"You signed this version for {signed.organisation.name}, so you cannot also approve "
            "it for the Health and Wellbeing Board: another chair must approve it."
        )
    plan.hwb_agreed_on = agreed_on
    plan.save(update_fields=["hwb_agreed_on"])
    # The decision log keeps the Board's date with the version it agreed, after a reopen too.
    agreed = f"Agreed at the Health and Wellbeing Board on {agreed_on.day} {agreed_on:%B %Y}"
    _move(plan, Move.APPROVE, actor=user, seal=seal, reason=agreed)


@transaction.atomic
def plan_mark_submitted(*, plan: Plan, user, submitted_on) -> None:
    plan = _begin(plan, Move.MARK_SUBMITTED, user)
    if submitted_on is None:
        raise ValidationError({"submitted_on": "Enter the date submitted."})
    if submitted_on > timezone.localdate():
        raise ValidationError({"submitted_on": "The date submitted cannot be in the future."})
    plan.submitted_on = submitted_on
    plan.save(update_fields=["submitted_on"])
    _move(plan, Move.MARK_SUBMITTED, actor=user, seal=current_seal(plan))


def seal_find(digest: str) -> Seal | None:
    return (
        Seal.objects.filter(digest=digest.strip().lower())
        .select_related("plan__area", "plan__round", "created_by")
        .first()
    )
