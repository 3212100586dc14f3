"""Domain functions for areas, their partners, and the plan's parts."""

import contextlib
import hashlib
import json
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from difflib import SequenceMatcher

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import transaction
from django.db.models import Count, ProtectedError
from django.urls import reverse
from django.utils import timezone

from itf_portal.mail import email_send
from plans.constants import (
    CURRENT_ROUND,
    ROUNDS,
    SIGNING_STATES,
    OrganisationKind,
    PartKey,
    PartStatus,
    PlanState,
)
from plans.models import (
    Area,
    Comment,
    Organisation,
    Part,
    Partnership,
    PartViewer,
    Plan,
    PlanningRound,
)
from plans.template import (
    PART_BY_KEY,
    ContentError,
    Kind,
    content_check,
    content_problems,
    questions,
    recorded_name,
)


def partners_check(partners: Iterable[Organisation]) -> None:
    """The partnership rule: exactly one local authority and at least one CCG."""
    partners = list(partners)
    councils = [org for org in partners if org.kind == OrganisationKind.LOCAL_AUTHORITY]
    ccgs = [org for org in partners if org.kind == OrganisationKind.CCG]
    errors = []
    if not councils:
        errors.append("Choose the area's local authority: an area has exactly one.")
    elif len(councils) > 1:
        names = " and ".join(org.name for org in councils)
        errors.append(f"An area has exactly one local authority, not two or more ({names}).")
    if not ccgs:
        errors.append("Choose at least one clinical commissioning group.")
    if errors:
        raise ValidationError({"partners": errors})


def name_check(name: str, what: str) -> None:
    """An area's or organisation's name is one line of text: it heads pages and workbooks and
    goes into email subjects, where a line break is refused (a server error, once stored)."""
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in name):
        raise ValidationError(
            {"name": f"The {what}'s name must be one line, without line breaks or tabs."}
        )


@transaction.atomic
def organisation_save(
    *, organisation: Organisation | None = None, name: str, kind: str
) -> Organisation:
    organisation = organisation or Organisation()
    if organisation.pk and kind != organisation.kind and organisation.partnerships.exists():
        raise ValidationError(
            {"kind": "This organisation is already a partner in an area, so its kind is fixed."}
        )
    name_check(name.strip(), "organisation")
    organisation.name = name.strip()
    organisation.kind = kind
    organisation.full_clean()
    organisation.save()
    return organisation


@transaction.atomic
def area_save(
    *,
    area: Area | None = None,
    name: str,
    slug: str,
    boundary_differences: str = "",
    partners: Iterable[Organisation],
) -> Area:
    """Create or change an area and set its partners, all or nothing."""
    partners = list(partners)
    name_check(name.strip(), "area")
    partners_check(partners)
    if area is not None and area.pk:
        area = Area.objects.select_for_update().get(pk=area.pk)
    else:
        area = Area()
    note_changed = area.boundary_differences != boundary_differences
    area.name = name.strip()
    area.slug = slug
    area.boundary_differences = boundary_differences
    area.full_clean()
    area.save()
    if note_changed:  # a plan summary nobody has written yet starts from the note as it is now
        Part.objects.filter(plan__area=area, key=PartKey.SUMMARY, version=0).update(
            content={"boundary_differences": boundary_differences}
        )

    wanted = {org.pk for org in partners}
    current = {p.organisation_id: p for p in area.partnerships.select_related("organisation")}
    if wanted != set(current) and (sealed := plans_being_signed(area)):
        raise ValidationError(
            {
                "partners": f"The {sealed[0].round.name} plan was sealed with these partners and "
                f"is {sealed[0].get_state_display().lower()}: reopen it before changing them."
            }
        )
    for org_id, partnership in current.items():
        if org_id not in wanted:
            try:
                partnership.delete()
            except ProtectedError as error:
                raise ValidationError(
                    {
                        "partners": f"{partnership.organisation.name} still has members in "
                        f"{area.name}. Remove their roles before removing the partner."
                    }
                ) from error
    for org in partners:
        if org.pk not in current:
            Partnership.objects.create(area=area, organisation=org)
    if not current:  # a new area: its plans are made now, so that reading them never writes
        for definition in ROUNDS:
            planning_round = round_get(str(definition["slug"]))
            assert planning_round is not None
            plan_open(area=area, round=planning_round)
    return area


def plans_being_signed(area: Area) -> list[Plan]:
    """The area's plans whose sealed version is in sign-off (awaiting, signed or approved)."""
    return list(area.plans.filter(state__in=SIGNING_STATES).select_related("round"))


class PlanNotEditable(Exception):
    """The plan is past Drafting: nothing in it may change until it is reopened."""


class StaleEdit(Exception):
    """Someone saved the part after this edit began; the edit was not applied."""

    def __init__(self, current: Part):
        super().__init__(f"{current} has changed since you opened it.")
        self.current = current


def plan_editable(plan: Plan) -> bool:
    """May this plan be changed now? Pages ask it to offer or hide their forms."""
    return plan.state == PlanState.DRAFTING


def plan_edit_check(plan: Plan) -> None:
    """The one question every write asks first: may this plan be changed now?"""
    if not plan_editable(plan):
        raise PlanNotEditable(
            f"This plan is {plan.get_state_display().lower()}, so it cannot be changed. "
            "An area admin can reopen it for editing."
        )


def _names_recorded(model, content: dict) -> None:
    """Record each chosen partner's name beside its id where the caller did not (the importer,
    a script), so pages, papers and differences name the partner, never a number."""
    row_model = model.model_fields.get("rows")
    rows_of = row_model.annotation.__args__[0] if row_model and row_model.annotation else None
    wanted = [(model, [content])]
    if rows_of is not None:
        wanted.append((rows_of, content.get("rows") or []))
    missing = []  # (record, id field, name field)
    for described, records in wanted:
        for question in questions(described):
            recorded = recorded_name(described, question.name)
            if question.kind == Kind.PARTNER and recorded:
                missing += [
                    (record, question.name, recorded)
                    for record in records
                    if record.get(question.name) and not record.get(recorded)
                ]
    if missing:
        ids = {record[field] for record, field, _ in missing}
        names = dict(Organisation.objects.filter(pk__in=ids).values_list("pk", "name"))
        for record, field, recorded in missing:
            record[recorded] = names.get(record[field], "")


def round_get(slug: str) -> PlanningRound | None:
    """The planning round with this slug, stored from its definition in ROUNDS on first use (a
    round added to ROUNDS later gets every area's plan as it is stored)."""
    definition = next((r for r in ROUNDS if r["slug"] == slug), None)
    if definition is None:
        return None
    planning_round, made = PlanningRound.objects.get_or_create(slug=slug, defaults=definition)
    if made:
        for area in Area.objects.all():
            plan_open(area=area, round=planning_round)
    return planning_round


def plan_current_round() -> PlanningRound:
    planning_round = round_get(CURRENT_ROUND)
    if planning_round is None:
        raise ImproperlyConfigured(f"CURRENT_ROUND {CURRENT_ROUND!r} is not one of ROUNDS")
    return planning_round


def plan_get(*, area: Area, round_slug: str) -> Plan | None:
    """The area's plan for the round, read and never made (it was made with the area)."""
    plan = Plan.objects.select_related("round").filter(area=area, round__slug=round_slug).first()
    if plan is not None:
        plan.area = area
    return plan


def plan_by_slugs(area_slug: str, round_slug: str) -> Plan | None:
    """The plan of the area and round with these slugs, with both, in one query."""
    return (
        Plan.objects.select_related("area", "round")
        .filter(area__slug=area_slug, round__slug=round_slug)
        .first()
    )


def plan_open(*, area: Area, round: PlanningRound) -> Plan:
    """The area's plan for the round, with a row for every part, made if it is missing: when an
    area or a round is stored, and by scripts that write (the demo, the importer)."""
    plan, _ = Plan.objects.get_or_create(area=area, round=round)
    present = set(plan.parts.values_list("key", flat=True))
    # The plan summary starts from the area's own note on boundary differences.
    starting: dict[str, dict] = {
        PartKey.SUMMARY: {"boundary_differences": area.boundary_differences}
    }
    missing = [
        Part(plan=plan, key=key, content=starting.get(key, {}))
        for key in PartKey.values
        if key not in present
    ]
    if missing:
        Part.objects.bulk_create(missing, ignore_conflicts=True)
    return plan


def parts_complete() -> int:
    """Give every plan a row for each part of the description: a part added to the template
    reaches the plans made before it. Run after every migrate (`plans.apps`); returns how many
    were made."""
    present = set(Part.objects.values_list("plan_id", "key"))
    missing = [
        Part(plan_id=plan_id, key=key)
        for plan_id in Plan.objects.values_list("pk", flat=True)
        for key in PartKey.values
        if (plan_id, key) not in present
    ]
    Part.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def plan_progress(*, round: PlanningRound, areas) -> dict[int, int]:
    """How many parts of each area's plan for the round are complete, by area id."""
    rows = (
        Part.objects.filter(plan__round=round, plan__area__in=areas, status=PartStatus.COMPLETE)
        .values("plan__area_id")
        .annotate(complete=Count("id"))
    )
    return {row["plan__area_id"]: row["complete"] for row in rows}


@transaction.atomic
def part_save(
    *,
    part: Part,
    content: dict,
    status: str,
    base_version: int,
    user,
    reason: str = "",
    store=None,
) -> Part:
    """Save a part's content if nobody has saved it since `base_version` (else StaleEdit) and it
    fits the part's description (else ValidationError, and nothing is saved). A part kept in the
    pooled fund's tables is saved through `finance.services.part_save`, which passes `store`:
    (plan id, key, checked content) -> writes its rows in the same transaction."""
    spec = PART_BY_KEY[part.key]
    if spec.in_tables and store is None:
        raise ImproperlyConfigured(
            f"{spec.title} is kept in the pooled fund's tables: save it with "
            "finance.services.part_save."
        )
    plan = Plan.objects.select_for_update(of=("self",)).select_related("round").get(pk=part.plan_id)
    plan_edit_check(plan)
    current = Part.objects.select_for_update().get(pk=part.pk)
    if current.version != base_version:
        raise StaleEdit(current)
    if status not in PartStatus.values or status == PartStatus.NOT_STARTED:
        raise ValidationError({"status": "Say whether you have finished this part."})
    try:
        content = content_check(part.key, content, plan.round.year_labels)
    except ContentError as error:
        raise ValidationError(
            [
                f"This cannot be saved as {part.get_key_display()}: {problem}."
                for problem in content_problems(error)
            ]
        ) from error
    _names_recorded(spec.content, content)
    if store is not None:
        store(plan.pk, part.key, content)
    current.content = content
    current.status = status
    current.version += 1
    current.updated_at = timezone.now()
    current.updated_by = user
    current._change_reason = reason or f"Saved as {PartStatus(status).label.lower()}"
    current._history_user = user
    current.save()
    return current


def row_fingerprint(row: dict) -> str:
    """A stored row's fingerprint: a row's own page carries it, so the save finds the row it was
    drawn from even after colleagues have added, moved or removed others."""
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def row_now(part: Part, base_version: int, number: int) -> int | None:
    """Where row `number` of the part as it was at `base_version` is now (its number), when
    others' saves since replaced it one for one (changed it); None when it has gone, or when the
    table around it changed so that which row it became cannot be told."""
    drawn = part.history.filter(version=base_version).values_list("content", flat=True).first()
    then = [row_fingerprint(row) for row in (drawn or {}).get("rows", [])]
    now = [row_fingerprint(row) for row in part.content.get("rows", [])]
    if not 1 <= number <= len(then):
        return None
    for op, a1, a2, b1, b2 in SequenceMatcher(None, then, now, autojunk=False).get_opcodes():
        if a1 <= number - 1 < a2:
            if op == "equal" or (op == "replace" and a2 - a1 == b2 - b1):
                return b1 + (number - 1 - a1) + 1
            return None
    return None


def _row_index(rows: list[dict], was: str, number: int) -> int | None:
    """Where the row that read `was` (drawn as row `number`) is now, or None if it has changed
    or gone."""
    if 1 <= number <= len(rows) and row_fingerprint(rows[number - 1]) == was:
        return number - 1
    return next((index for index, row in enumerate(rows) if row_fingerprint(row) == was), None)


@transaction.atomic
def part_row_save(
    *,
    part: Part,
    number: int | None,
    was: str,
    row: dict | None,
    position: int | None,
    base_version: int,
    user,
    store=None,
) -> Part:
    """Change one row of a long table part (row `number` as drawn, which read `was`), add one
    (no `number`) or remove one (no `row`), and put it at `position` (1 is first; none: where it
    was, or last). A save by someone else since `base_version` does not stop it when that save
    left this row as the person saw it (they changed another row): the change is made on top of
    theirs. When this row has changed or gone since, StaleEdit, and nothing is saved. The part is
    checked whole by `part_save`, as any save."""
    label = PART_BY_KEY[part.key].row_label or "Row"
    # Locked in `part_save`'s order (plan, then part): the rows read here are the ones changed.
    plan = Plan.objects.select_for_update(of=("self",)).select_related("round").get(pk=part.plan_id)
    plan_edit_check(plan)
    current = Part.objects.select_for_update().get(pk=part.pk)
    before = list(current.content.get("rows", []))
    if row is not None:
        # As it would be stored, so that a row saved unchanged is seen to be (a row that does
        # not fit is refused whole, with its reasons, by part_save).
        with contextlib.suppress(ContentError):
            row = content_check(part.key, {"rows": [row]}, plan.round.year_labels)["rows"][0]
    rows = list(before)
    stale = current.version != base_version
    if number is None:
        if stale and row is not None and row in rows:
            return current  # the same new row posted twice (a second click): added once
        index, reason = len(rows), f"{label} added"
    else:
        found = _row_index(rows, was, number)
        if found is None:
            if stale and row is not None and row in rows:
                return current  # saved as posted already (a second click on Save)
            raise StaleEdit(current)
        index = found
        rows.pop(index)
        reason = f"{label} {index + 1} {'changed' if row is not None else 'removed'}"
    if row is not None:
        place = index if position is None else min(max(position, 1), len(rows) + 1) - 1
        rows.insert(place, row)
        if number is None:
            reason += f" as {place + 1}"
        elif place != index:
            reason += f" and moved to {place + 1}"
    if rows == before:
        return current  # saved as it was: no new version
    status = PartStatus.IN_PROGRESS if current.status == PartStatus.NOT_STARTED else current.status
    if not rows and status == PartStatus.COMPLETE:
        status = PartStatus.IN_PROGRESS  # a table with no rows left is not complete
        reason += ": no rows are left, so the part is in progress again"
    return part_save(
        part=current,
        content={**current.content, "rows": rows},
        status=status,
        base_version=current.version,
        user=user,
        reason=reason,
        store=store,
    )


def part_restore(*, part: Part, history_id: int, base_version: int, user, store=None) -> Part:
    old = part.history.filter(history_id=history_id).first()
    if old is None:
        raise ValidationError("That version of this part does not exist.")
    return part_save(
        part=part,
        content=old.content,
        status=PartStatus.IN_PROGRESS,
        base_version=base_version,
        user=user,
        reason=f"Restored version {old.version}",
        store=store,
    )


@transaction.atomic
def part_assign(*, part: Part, assignee, due_date, user=None) -> Part:
    if (
        assignee is not None
        and not assignee.memberships.filter(partnership__area_id=part.plan.area_id).exists()
    ):
        raise ValidationError({"assignee": "Choose a member of this area."})
    part = (
        Part.objects.select_for_update(of=("self",))
        .select_related("plan__area", "plan__round")
        .get(pk=part.pk)
    )
    newly_assigned = assignee is not None and assignee != part.assignee and assignee != user
    part.assignee = assignee
    part.due_date = due_date
    if newly_assigned:
        due = f" It is due on {due_date:%d %B %Y}." if due_date else ""
        email_send(
            to=[assignee.email],
            subject=f"You have been assigned “{part.get_key_display()}” ({part.plan.area.name})",
            body=f"You have been assigned the part “{part.get_key_display()}” of the "
            f"{part.plan.area.name} ITF plan.{due}",
            path=reverse(
                "part",
                kwargs={
                    "slug": part.plan.area.slug,
                    "round_slug": part.plan.round.slug,
                    "key": part.key,
                },
            ),
        )
    part._change_reason = "Assigned"
    part._history_user = user
    part.save(update_fields=["assignee", "due_date"])
    return part


PRESENCE_WINDOW = timedelta(seconds=60)


def presence_touch(*, part: Part, user) -> list:
    """Record that the user has the part open (the page's own small endpoint, every 20 seconds);
    return the others who have it open now."""
    PartViewer.objects.update_or_create(
        part=part, user=user, defaults={"last_seen": timezone.now()}
    )
    return presence_others(part=part, user=user)


def presence_others(*, part: Part, user) -> list:
    """The others who have the part open now. A read: showing the page writes nothing."""
    return [
        viewer.user
        for viewer in PartViewer.objects.filter(
            part=part, last_seen__gte=timezone.now() - PRESENCE_WINDOW
        )
        .exclude(user=user)
        .select_related("user")
        .order_by("user__first_name", "user__last_name")
    ]


@transaction.atomic
def comment_add(*, part: Part, author, text: str) -> Comment:
    comment = Comment(part=part, author=author, text=text.strip())
    comment.full_clean()
    comment.save()
    return comment


@transaction.atomic
def comment_resolve(*, comment: Comment, user, resolved: bool) -> Comment:
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    comment.resolved_at = timezone.now() if resolved else None
    comment.resolved_by = user if resolved else None
    comment.save(update_fields=["resolved_at", "resolved_by"])
    return comment
