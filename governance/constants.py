from django.db import models


class Role(models.TextChoices):
    COMMISSIONER = "commissioner", "Commissioner"
    FINANCE_LEAD = "finance_lead", "Finance lead"
    SIGNATORY = "signatory", "Signatory"
    HWB_CHAIR = "hwb_chair", "Health and Wellbeing Board chair"
    AREA_ADMIN = "area_admin", "Area admin"
    REVIEWER = "reviewer", "Reviewer"


NATIONAL_ADMIN_GROUP = "National admins"


class Action(models.TextChoices):
    """What moved a plan from one state to another, as the decision log records it."""

    SUBMITTED_FOR_SIGNOFF = "submitted_for_signoff", "Submitted for sign-off"
    REOPENED = "reopened", "Reopened for editing"
