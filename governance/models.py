from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from governance.constants import Action, MilestoneKind, Role
from plans.constants import PlanState
from plans.models import Partnership


class Membership(models.Model):
    """A person's role in an area, on behalf of one of its partner organisations.

    Pointing at the partnership (not at the area and organisation separately) means a membership's
    organisation is always a partner of its area.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["partnership__area__name", "user__last_name", "user__first_name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "partnership", "role"], name="membership_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}, {self.partnership}"


class Seal(models.Model):
    """A frozen version of a whole plan: every part and figure as canonical JSON, and its
    SHA-256 digest. Signatures are given to a seal, never to a plan that can still change."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="seals")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="seal_number_unique")
        ]

    def __str__(self) -> str:
        return f"Sealed version {self.number} of {self.plan}"


class Decision(models.Model):
    """The append-only log of every move of a plan between states: who, when, from, to, why."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="decisions")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    action = models.CharField(max_length=40, choices=Action.choices)
    from_state = models.CharField(max_length=20, choices=PlanState.choices)
    to_state = models.CharField(max_length=20, choices=PlanState.choices)
    reason = models.TextField(blank=True, max_length=5000)
    seal = models.ForeignKey(
        Seal, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor} at {self.at:%Y-%m-%d %H:%M}"


class Signature(models.Model):
    """A partner's signature on one sealed version. Never deleted: a decline or a reopen marks
    it withdrawn, so the log still shows who had signed what."""

    seal = models.ForeignKey(Seal, on_delete=models.PROTECT, related_name="signatures")
    organisation = models.ForeignKey(
        "plans.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=300)
    position = models.CharField(max_length=200)
    signed_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["seal", "organisation"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_signature_per_partner_per_seal",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} for {self.organisation} on {self.seal}"


class Milestone(models.Model):
    """A dated step on the way to submission; overdue when its date has passed undone."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="milestones")
    kind = models.CharField(max_length=30, choices=MilestoneKind.choices)
    due_on = models.DateField(null=True, blank=True)
    done_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "kind"], name="milestone_one_per_kind"),
            models.CheckConstraint(
                condition=models.Q(kind__in=MilestoneKind.values), name="milestone_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.plan})"


class Export(models.Model):
    """Every export of a plan: who, which plan, which format, and which seal (or the draft)."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="exports")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    format = models.CharField(max_length=10)
    seal = models.CharField(max_length=64, help_text="The seal exported, or 'draft'")
    # What a workbook was exported from, so an edited copy imported later changes only the cells
    # a person edited (`plans.exports.importer`).
    snapshot = models.JSONField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.format} of {self.plan} ({self.seal}) by {self.user}"


class ExportFile(models.Model):
    """A plan's PDF or workbook, made once for exactly what it prints and served again to every
    download of the same thing (`plans.exports.service`). `key` is a digest of what the file
    prints, so a sealed plan's file is made once per seal and sign-off state, never twice. A PDF
    is printed by the task worker: `html` holds the paper until it is printed."""

    PRINTING, DONE, FAILED = "printing", "done", "failed"
    STATUSES = [(PRINTING, "Printing"), (DONE, "Ready"), (FAILED, "Failed")]

    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="+")
    format = models.CharField(max_length=10)
    seal = models.CharField(max_length=64, help_text="The seal printed, or 'draft'")
    key = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=STATUSES, default=PRINTING)
    html = models.TextField(blank=True)
    data = models.BinaryField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True)
    # The export whose number a workbook carries (the importer reads what it was exported from).
    export = models.ForeignKey(
        Export, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.format} of {self.plan} ({self.seal}, {self.status})"


class CompositeExport(models.Model):
    """One build of the national composite workbook (`plans.exports.national`): who asked, how
    far it has got, and the finished file. Builds run in the background; the page polls this."""

    BUILDING, DONE, FAILED = "building", "done", "failed"
    STATUSES = [(BUILDING, "Building"), (DONE, "Ready"), (FAILED, "Failed")]

    round = models.ForeignKey("plans.PlanningRound", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=STATUSES, default=BUILDING)
    areas_total = models.PositiveIntegerField(default=0)
    areas_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    data = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One build under way per round, however many app hosts are asked at once.
            models.UniqueConstraint(
                fields=["round"],
                condition=models.Q(status="building"),
                name="composite_one_build_at_a_time",
            )
        ]

    def __str__(self) -> str:
        return f"Composite workbook of {self.created_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.DONE:
            return 100
        return int(100 * self.areas_done / self.areas_total) if self.areas_total else 0


class PasswordLinkRequest(models.Model):
    """Each request for a link to choose a password (append-only): the limits on how many links
    one account, and one address, can be sent in an hour count these rows."""

    email = models.CharField(max_length=254)
    address = models.GenericIPAddressField(null=True, blank=True)
    sent = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"Password link for {self.email} at {self.at:%Y-%m-%d %H:%M}"


class VarianceNotice(models.Model):
    """The pool manager's notice to every partner of a forecast over- or under-spend at or beyond
    the materiality threshold (append-only): raised by the quarterly return that first forecast
    it, due within the agreed working days, with each partner's share as it was worked out."""

    plan = models.ForeignKey("plans.Plan", on_delete=models.PROTECT, related_name="notices")
    quarterly_return = models.ForeignKey(
        "finance.QuarterlyReturn", on_delete=models.PROTECT, related_name="notices"
    )
    year = models.CharField(max_length=7)
    quarter = models.PositiveSmallIntegerField()
    # Forecast net spend less the pooled budget: above nothing an over-spend, below an under-spend.
    # Sums over up to a thousand schemes of up to £10bn each: wider than one amount.
    overspend = models.DecimalField(max_digits=18, decimal_places=2)
    pool = models.DecimalField(max_digits=18, decimal_places=2)
    forecast = models.DecimalField(max_digits=18, decimal_places=2)
    threshold = models.DecimalField(max_digits=14, decimal_places=2)
    basis = models.CharField(max_length=200)
    # [{organisation, name, percent, bears}], each share as text to the penny.
    shares = models.JSONField(default=list)
    raised_on = models.DateField()
    due_on = models.DateField()
    raised_at = models.DateTimeField(auto_now_add=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["plan", "-raised_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(due_on__gte=models.F("raised_on")), name="notice_due_after"
            )
        ]

    def __str__(self) -> str:
        return f"Notice of {self.overspend} ({self.plan}, {self.year} Q{self.quarter})"

    @property
    def is_overspend(self) -> bool:
        return self.overspend > 0


class NoticeAcknowledgement(models.Model):
    """A partner's acknowledgement of a variance notice: once per partner, by one of its people."""

    notice = models.ForeignKey(
        VarianceNotice, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    organisation = models.ForeignKey(
        "plans.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "organisation"], name="notice_acknowledged_once_per_partner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} acknowledged {self.notice}"


class ReturnSignOff(models.Model):
    """A quarterly return's sign-off (append-only): each partner's finance lead confirms the
    figures of one version, and the Health and Wellbeing Board chair notes it once every partner
    has. Given to the version's digest, as a signature is to a seal; a change to the return
    withdraws them (kept, marked withdrawn)."""

    CONFIRMED, NOTED = "confirmed", "noted"
    KINDS = [(CONFIRMED, "Confirmed by the partner's finance lead"), (NOTED, "Noted by the chair")]

    quarterly_return = models.ForeignKey(
        "finance.QuarterlyReturn", on_delete=models.PROTECT, related_name="signoffs"
    )
    kind = models.CharField(max_length=10, choices=KINDS)
    version = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    # The partner confirming; none for the chair's note, given for the Board.
    organisation = models.ForeignKey(
        "plans.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="confirmed", organisation__isnull=False)
                | models.Q(kind="noted", organisation__isnull=True),
                name="return_signoff_kind",
            ),
            models.UniqueConstraint(
                fields=["quarterly_return", "organisation"],
                condition=models.Q(withdrawn_at__isnull=True, kind="confirmed"),
                name="return_confirmed_once_per_partner",
            ),
            models.UniqueConstraint(
                fields=["quarterly_return"],
                condition=models.Q(withdrawn_at__isnull=True, kind="noted"),
                name="return_noted_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.quarterly_return}, version {self.version}"
