"""Load the demo: the five seed areas with their real 2014 partners, a user for every role, and
their plans, one in each state of sign-off (`fixtures/demo_signoff.json`).

Idempotent: run it again and it changes nothing (except resetting demo passwords to DEMO_PASSWORD).
"""

import json
import os
from datetime import date, datetime, time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from finance.models import Allocation, QuarterlyReturn
from finance.monitoring_forms import ReturnForm
from finance.services import allocations_load, part_save
from governance.constants import NATIONAL_ADMIN_GROUP, Action, Role
from governance.milestones import milestones_set
from governance.models import (
    Decision,
    Membership,
    NoticeAcknowledgement,
    ReturnSignOff,
    Seal,
    VarianceNotice,
)
from governance.monitoring import (
    ACKNOWLEDGERS,
    figures_for,
    notice_acknowledge,
    plan_quarters,
    return_confirm,
    return_digest,
    return_note,
    return_save,
    submitted_seal,
)
from governance.permissions import national_admin_group_sync
from governance.services import membership_add
from governance.signoff import (
    plan_approve,
    plan_mark_submitted,
    plan_submit_for_signoff,
    readiness_checks,
    signature_add,
)
from itf_portal.forms import form_data
from plans.constants import OrganisationKind, PartStatus, PlanState
from plans.models import Area, Organisation, Part
from plans.registry import PART_BY_KEY
from plans.services import (
    area_save,
    organisation_save,
    plan_current_round,
    plan_open,
)
from plans.template import Metrics

DEFAULT_DEMO_PASSWORD = "Better-Care-2014"  # noqa: S105 - printed by `make run` and in the README
EMAIL_DOMAIN = "demo.itf-portal.invalid"


def _at(day: str, hour: int) -> datetime:
    """A time on a demo day ("2015-07-20"), as the area did it."""
    return timezone.make_aware(datetime.combine(date.fromisoformat(day), time(hour)))


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


class Command(BaseCommand):
    help = "Create or refresh the demo areas, partners and users (one per role per area)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--drafting",
            action="store_true",
            help="Leave every plan in Drafting, to walk the whole sign-off from its start.",
        )

    def handle(self, *args, drafting: bool = False, **options):
        with open(settings.BASE_DIR / "fixtures" / "demo.json") as handle:
            demo = json.load(handle)
        # Every demo user shares one public password: hash it once, not once per user.
        self.password_hash = make_password(demo_password())
        with open(settings.BASE_DIR / "fixtures" / "demo_plans.json") as handle:
            plans = json.load(handle)
        with transaction.atomic():
            logins = self._load(demo)
            for slug, parts in plans.items():
                if not slug.startswith("_"):  # "_illustrative": what the papers do not give
                    self._plan(Area.objects.get(slug=slug), parts)
            self._milestones()
            self._allocations()
            with open(settings.BASE_DIR / "fixtures" / "demo_signoff.json") as handle:
                for slug, steps in json.load(handle).items():
                    if not slug.startswith("_") and not drafting:
                        self._signoff(Area.objects.get(slug=slug), steps)
            if not drafting:
                self._returns()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {len(demo['areas'])} areas."))
        self.stdout.write(f"Demo logins (password for all: {demo_password()}):")
        for area, usernames in logins.items():
            self.stdout.write(f"  {area:<12} {', '.join(usernames)}")

    def _organisation(self, name: str, kind: str) -> Organisation:
        existing = Organisation.objects.filter(name=name).first()
        return existing or organisation_save(name=name, kind=kind)

    def _user(self, username: str, first: str, last: str):
        user, _ = get_user_model().objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@{EMAIL_DOMAIN}"
        user.password = self.password_hash
        user.save()
        return user

    def _plan(self, area: Area, parts: dict) -> None:
        """Fill the area's plan from the seeds, through the same form checks a person meets.

        Parts already saved (by the demo or by someone trying it) are left as they are.
        """
        plan = plan_open(area=area, round=plan_current_round())
        author = get_user_model().objects.get(username=f"{area.slug}-commissioner")
        saved = {part.key: part for part in plan.parts.all()}
        for key, entry in parts.items():
            part = saved[key]
            if part.version or entry["status"] == PartStatus.NOT_STARTED:
                continue
            spec = PART_BY_KEY[key]
            content = self._with_organisation_ids(entry["content"])
            shown = spec.form(plan=plan, content=content, status=entry["status"])
            form = spec.form(form_data(shown), plan=plan)
            if not form.is_valid():
                raise CommandError(f"Demo content for {area.slug} {key} is invalid: {form.errors}")
            part_save(
                part=part,
                content=form.content(),
                status=entry["status"],
                base_version=0,
                user=author,
                reason="Demo content from the source papers",
            )

    def _allocations(self) -> None:
        """The minimums of the areas that have none yet (a national admin may have set some)."""
        text = (settings.BASE_DIR / "fixtures" / "demo_allocations.csv").read_text()
        header, *rows = text.splitlines()
        known = set(
            Allocation.objects.filter(round=plan_current_round()).values_list(
                "area__slug", flat=True
            )
        )
        wanted = [row for row in rows if row.split(",")[0] not in known]
        if wanted:
            allocations_load(planning_round=plan_current_round(), text="\n".join([header, *wanted]))

    def _signoff(self, area: Area, steps: dict) -> None:
        """Take a plan nobody has taken through sign-off yet as far as `steps` says, by the same
        moves people make: the commissioner submits it, each partner's signatory signs (with the
        demo password), the chair approves it and the area admin marks it submitted. A plan
        that is not ready (someone has changed it) is left in Drafting, and that is said."""
        plan = plan_open(area=area, round=plan_current_round())
        if plan.state != PlanState.DRAFTING or plan.seals.exists():
            return
        failing = [check.message for check in readiness_checks(plan) if not check.passed]
        if failing:
            self.stdout.write(f"{area.name}'s plan stays in Drafting: {failing[0]}")
            return
        person = {
            suffix: get_user_model().objects.get(username=f"{area.slug}-{suffix}")
            for suffix in ("commissioner", "chair", "admin")
        }
        request = HttpRequest()  # the sign-in lockout counts a wrong password by its address
        request.META["REMOTE_ADDR"] = "127.0.0.1"
        seal = plan_submit_for_signoff(plan=plan, user=person["commissioner"])
        for suffix, position, _ in steps["signed_by"]:
            membership = Membership.objects.select_related("user", "partnership__organisation").get(
                user__username=f"{area.slug}-{suffix}", partnership__area=area, role=Role.SIGNATORY
            )
            signature_add(
                plan=plan,
                user=membership.user,
                organisation=membership.partnership.organisation,
                password=demo_password(),
                position=position,
                request=request,
                read_seal=seal.digest,
            )
        if agreed := steps.get("hwb_agreed_on"):
            plan_approve(
                plan=plan,
                user=person["chair"],
                password=demo_password(),
                agreed_on=date.fromisoformat(agreed),
                request=request,
                read_seal=seal.digest,
            )
        if submitted := steps.get("submitted_on"):
            plan_mark_submitted(
                plan=plan, user=person["admin"], submitted_on=date.fromisoformat(submitted)
            )
        self._dated(plan, seal, steps)

    @staticmethod
    def _dated(plan, seal, steps: dict) -> None:
        """Each move dated as the area made it in 2014, not as the demo was loaded: its parts as
        written by the morning it was sealed, each signature and decision on its day."""

        def day(text: str, hour: int = 10) -> datetime:
            return timezone.make_aware(datetime.combine(date.fromisoformat(text), time(hour)))

        written = day(steps["sealed_on"], 9)
        Part.objects.filter(plan=plan, version__gt=0).update(updated_at=written)
        Part.history.filter(plan_id=plan.pk).update(history_date=written)
        Seal.objects.filter(pk=seal.pk).update(created_at=day(steps["sealed_on"]))
        for suffix, _, signed_on in steps["signed_by"]:
            seal.signatures.filter(user__username=f"{plan.area.slug}-{suffix}").update(
                signed_at=day(signed_on)
            )
        last_signature = max(signed_on for _, _, signed_on in steps["signed_by"])
        for action, when in (
            (Action.SUBMITTED_FOR_SIGNOFF, steps["sealed_on"]),
            (Action.SIGNED_BY_ALL, last_signature),
            (Action.APPROVED, steps.get("hwb_agreed_on")),
            (Action.MARKED_SUBMITTED, steps.get("submitted_on")),
        ):
            if when:
                Decision.objects.filter(plan=plan, action=action).update(at=day(when, 11))

    def _returns(self) -> None:
        """The quarterly returns of `fixtures/demo_returns.json`, for submitted plans that have
        none yet, by the finance lead through the same form a person fills in, each dated as
        the area made it; the notices they raise are acknowledged as the file says."""
        with open(settings.BASE_DIR / "fixtures" / "demo_returns.json") as handle:
            areas = json.load(handle)
        for slug, returns in areas.items():
            if slug.startswith("_"):
                continue
            plan = plan_open(area=Area.objects.get(slug=slug), round=plan_current_round())
            if plan.state != PlanState.SUBMITTED or plan.returns.exists():
                continue
            finance = get_user_model().objects.get(username=f"{slug}-finance")
            seal = submitted_seal(plan)
            ids = dict(Organisation.objects.values_list("name", "pk"))
            for entry in returns:
                quarter = next(
                    q
                    for q in plan_quarters(plan)
                    if (q.year_label, q.quarter) == (entry["year"], entry["quarter"])
                )
                saved_on = date.fromisoformat(entry["saved_on"])
                content = self._return_content(seal, entry, ids)
                figures = figures_for(seal, quarter.year_label, content)
                shown = ReturnForm(figures=figures, content=content)
                form = ReturnForm(form_data(shown), figures=figures)
                if not form.is_valid():
                    raise CommandError(f"Demo return for {slug} is invalid: {form.errors}")
                saved, notice = return_save(
                    plan=plan,
                    quarter=quarter,
                    content=form.content(),
                    base_version=0,
                    user=finance,
                    today=saved_on,
                )
                when = timezone.make_aware(datetime.combine(saved_on, time(15)))
                QuarterlyReturn.objects.filter(pk=saved.pk).update(updated_at=when)
                saved.history.update(history_date=when)
                self._return_signed(plan, saved, entry)
                if notice is None:
                    continue
                VarianceNotice.objects.filter(pk=notice.pk).update(raised_at=when)
                for suffix, acknowledged_on in entry["acknowledged"]:
                    membership = Membership.objects.select_related("user").get(
                        user__username=f"{slug}-{suffix}",
                        partnership__area=plan.area,
                        role__in=ACKNOWLEDGERS,
                    )
                    acknowledgement, _ = notice_acknowledge(
                        notice=notice,
                        organisation=membership.partnership.organisation,
                        user=membership.user,
                    )
                    NoticeAcknowledgement.objects.filter(pk=acknowledgement.pk).update(
                        at=_at(acknowledged_on, 11)
                    )

    @staticmethod
    def _return_signed(plan, saved, entry: dict) -> None:
        """The return confirmed by the finance leads and noted by the chair, as the file says,
        each on its day."""
        saved.refresh_from_db()
        digest = return_digest(saved)
        for suffix, on in entry["confirmed"]:
            membership = Membership.objects.select_related("user", "partnership").get(
                user__username=f"{plan.area.slug}-{suffix}", partnership__area=plan.area
            )
            confirmation, _ = return_confirm(
                found=saved,
                organisation=membership.partnership.organisation,
                user=membership.user,
                read_digest=digest,
            )
            ReturnSignOff.objects.filter(pk=confirmation.pk).update(at=_at(on, 12))
        if entry.get("noted"):
            suffix, on = entry["noted"]
            chair = get_user_model().objects.get(username=f"{plan.area.slug}-{suffix}")
            note, _ = return_note(found=saved, user=chair, read_digest=digest)
            ReturnSignOff.objects.filter(pk=note.pk).update(at=_at(on, 12))

    @staticmethod
    def _return_content(seal, entry: dict, ids: dict) -> dict:
        """A demo return, its schemes and measures by name, as a return stores them."""
        parts = seal.snapshot["parts"]
        schemes = parts["schemes"]["content"]["rows"]
        measures = Metrics.rows_shown(parts["metrics"]["content"])
        lines = []
        for position, row in enumerate(schemes):
            if row["name"] in entry["schemes"]:
                spent, forecast, progress = entry["schemes"][row["name"]]
                lines.append(
                    {
                        "position": position,
                        "spend_to_date": spent,
                        "forecast": forecast,
                        "progress": progress,
                    }
                )
        return {
            "note": entry["note"],
            "schemes": lines,
            "paid": [
                {"organisation": ids[name], "stream": stream, "paid": amount}
                for name, streams in entry["paid"].items()
                for stream, amount in streams.items()
            ],
            "metrics": [
                {"position": position, "actual": entry["metrics"][row["name"]]}
                for position, row in enumerate(measures)
                if row["name"] in entry["metrics"]
            ],
        }

    def _milestones(self) -> None:
        """The seeds' timelines, for plans whose milestones nobody has set yet."""
        with open(settings.BASE_DIR / "fixtures" / "demo_milestones.json") as handle:
            timelines = json.load(handle)
        for slug, dates in timelines.items():
            if slug.startswith("_"):
                continue
            plan = plan_open(area=Area.objects.get(slug=slug), round=plan_current_round())
            if plan.milestones.exists():
                continue
            admin = get_user_model().objects.get(username=f"{slug}-admin")
            milestones_set(
                plan=plan,
                user=admin,
                dates={
                    kind: tuple(date.fromisoformat(d) if d else None for d in pair)
                    for kind, pair in dates.items()
                },
            )

    @staticmethod
    def _with_organisation_ids(content: dict) -> dict:
        """The demo file names partners; stored content points at them by id."""
        ids = dict(Organisation.objects.values_list("name", "pk"))
        content = dict(content)
        if "amounts" in content:
            content["amounts"] = [
                {**e, "organisation": ids[e["organisation_name"]]} for e in content["amounts"]
            ]
        if "lines" in content:  # health and care spend: a CCG's line is keyed by its id
            content["lines"] = {
                (f"ccg_{ids[key[5:]]}" if key.startswith("ccg: ") else key): amounts
                for key, amounts in content["lines"].items()
            }
        if content.get("host_partner"):
            content["host_partner"] = ids[content["host_partner"]]
        if "shares" in content:  # agreed risk shares, by partner
            content["shares"] = {str(ids[name]): share for name, share in content["shares"].items()}
        if any("lead_commissioner" in row for row in content.get("rows", [])):
            content["rows"] = [
                {**row, "lead_commissioner": ids.get(row["lead_commissioner"], "")}
                for row in content["rows"]
            ]
        return content

    def _load(self, demo: dict) -> dict[str, list[str]]:
        logins: dict[str, list[str]] = {}
        for spec in demo["areas"]:
            council = self._organisation(spec["local_authority"], OrganisationKind.LOCAL_AUTHORITY)
            ccgs = [self._organisation(name, OrganisationKind.CCG) for name in spec["ccgs"]]
            # An area someone has already changed (partners, note) is left as they left it.
            area = Area.objects.filter(slug=spec["slug"]).first() or area_save(
                name=spec["name"],
                slug=spec["slug"],
                boundary_differences=spec["boundary_differences"],
                partners=[council, *ccgs],
            )
            partner = {"la": council, "ccg": ccgs[0], "ccg2": ccgs[1] if len(ccgs) > 1 else None}
            partners = set(area.partners.all())
            for role in demo["roles"]:
                organisation = partner[role["partner"]]
                if organisation not in partners:
                    continue
                username = f"{spec['slug']}-{role['suffix']}"
                user = self._user(username, spec["name"], role["title"])
                held = Membership.objects.filter(
                    user=user, partnership__area=area, role=role["role"]
                ).exists()
                if not held:
                    membership_add(
                        area=area, organisation=organisation, user=user, role=role["role"]
                    )
                logins.setdefault(spec["slug"], []).append(username)
        national = self._user("national-admin", "National", "admin")
        national_admin_group_sync()
        national.groups.add(Group.objects.get(name=NATIONAL_ADMIN_GROUP))
        logins["all areas"] = ["national-admin"]
        return logins
