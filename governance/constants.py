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
    SIGNED_BY_ALL = "signed_by_all", "Signed by every partner"
    DECLINED = "declined", "Declined"
    APPROVED = "approved", "Approved on behalf of the Health and Wellbeing Board"
    MARKED_SUBMITTED = "marked_submitted", "Marked as submitted to NHS England"
    REOPENED = "reopened", "Reopened for editing"


class Move(models.TextChoices):
    """What a person can do to move a plan on; `governance.workflow.WORKFLOW` says when."""

    SUBMIT = "submit", "Submit for sign-off"
    SIGN = "sign", "Sign"
    DECLINE = "decline", "Decline to sign"
    APPROVE = "approve", "Approve on behalf of the Health and Wellbeing Board"
    REOPEN = "reopen", "Reopen for editing"
    MARK_SUBMITTED = "mark_submitted", "Mark as submitted to NHS England"


class MilestoneKind(models.TextChoices):
    FIRST_DRAFT = "first_draft", "First draft"
    SECOND_DRAFT = "second_draft", "Second draft"
    FINAL_DRAFT = "final_draft", "Final draft"
    HWB_MEETING = "hwb_meeting", "Health and Wellbeing Board meeting"
    SUBMISSION_DEADLINE = "submission_deadline", "Submission deadline"
