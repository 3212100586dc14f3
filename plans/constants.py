from django.db import models


class OrganisationKind(models.TextChoices):
    LOCAL_AUTHORITY = "la", "Local authority"
    CCG = "ccg", "Clinical commissioning group"


class PlanState(models.TextChoices):
    """Where a plan is on its way to NHS England; only a plan in Drafting can be edited."""

    DRAFTING = "drafting", "Drafting"
    AWAITING_SIGNOFF = "awaiting_signoff", "Awaiting sign-off"
    SIGNED = "signed", "Signed by all partners"
    APPROVED = "approved", "Approved by the Health and Wellbeing Board"
    SUBMITTED = "submitted", "Submitted"


# The states in which a sealed version is in sign-off (awaiting, signed or approved): it can be
# reopened, and its partners and signatories stay as they were sealed.
SIGNING_STATES = (PlanState.AWAITING_SIGNOFF, PlanState.SIGNED, PlanState.APPROVED)


class PartStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    READY_FOR_REVIEW = "ready_for_review", "Ready for review"
    COMPLETE = "complete", "Complete"


class Rating(models.TextChoices):
    HIGH = "H", "High"
    MEDIUM = "M", "Medium"
    LOW = "L", "Low"


class YesNo(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"


NATIONAL_METRICS = [
    "Delayed transfers of care",
    "Emergency admissions",
    "Effectiveness of reablement",
    "Admissions to residential and nursing care",
    "Patient and service-user experience",
]


class PartKey(models.TextChoices):
    """The keys of the parts of the Draft Plan Submission Template, in template order. Their
    titles, words and shapes are in `plans.template`, the one description of the template."""

    SUMMARY = "summary"
    PROVIDER_ENGAGEMENT = "provider_engagement"
    PUBLIC_ENGAGEMENT = "public_engagement"
    RELATED_DOCUMENTS = "related_documents"
    VISION = "vision"
    AIMS = "aims"
    PLANNED_CHANGES = "planned_changes"
    ACUTE_SECTOR = "acute_sector"
    GOVERNANCE = "governance"
    PROTECTING_SOCIAL_CARE = "protecting_social_care"
    SEVEN_DAY_SERVICES = "seven_day_services"
    DATA_SHARING = "data_sharing"
    JOINT_ASSESSMENT = "joint_assessment"
    METRICS = "metrics"
    CONTRIBUTIONS = "contributions"
    ARRANGEMENTS = "arrangements"
    SCHEMES = "schemes"
    SPEND = "spend"
    CONTINGENCY = "contingency"
    RISKS = "risks"


# The national planning rounds. Every year a plan covers comes from here; nothing else names one.
ROUNDS = [
    {
        "slug": "itf-2014",
        "name": "Integration Transformation Fund 2014/15 and 2015/16",
        "baseline_year": 2013,
        "first_year": 2014,
        "last_year": 2015,
    },
]
CURRENT_ROUND = "itf-2014"


class FundingStream(models.TextChoices):
    """The streams the pooled fund is built from (seeds 000, 002, 004)."""

    SECTION_256 = "s256", "Existing NHS transfer to social care (section 256)"
    ADDITIONAL_TRANSFER = "additional", "Additional 2014/15 transfer"
    CARERS_BREAKS = "carers", "Carers' breaks"
    REABLEMENT = "reablement", "CCG reablement"
    CAPITAL = "capital", "Capital, of which Disabled Facilities Grant"
    NHS_BASELINE = "nhs", "NHS funding from CCG baselines"
    OTHER = "other", "Other local contributions"


class SchemeType(models.TextChoices):
    REABLEMENT = "reablement", "Reablement"
    INTERMEDIATE_CARE = "intermediate_care", "Intermediate care"
    INTEGRATED_TEAMS = "integrated_teams", "Integrated care teams"
    CARERS = "carers", "Support for carers"
    PREVENTION = "prevention", "Prevention and early help"
    ASSISTIVE_TECHNOLOGY = "assistive_technology", "Assistive technology"
    DFG = "dfg", "Disabled Facilities Grant and adaptations"
    SEVEN_DAY = "seven_day", "Seven-day services"
    CARE_ACT = "care_act", "Care Act implementation"
    OTHER = "other", "Other, please describe"


class RiskShareBasis(models.TextChoices):
    PROPORTIONAL = "proportional", "In proportion to each partner's contributions"
    AGREED = "agreed", "Agreed shares, set below"


class AreaPermission(models.TextChoices):
    """The object permissions an Area declares (`Area.Meta.permissions`); which role holds which
    is `governance.permissions.ROLE_PERMISSIONS`."""

    MANAGE_MEMBERS = "manage_members", "Manage the area's members and their roles"
    EDIT_PLAN = "edit_plan", "Write the plan's narrative parts"
    EDIT_FINANCE = "edit_finance", "Enter the pooled fund's figures"
    COMMENT_PLAN = "comment_plan", "Comment on the plan"
    ASSIGN_PARTS = "assign_parts", "Assign the plan's parts and set due dates"
    SUBMIT_PLAN = "submit_plan", "Submit the plan for sign-off"
    REOPEN_PLAN = "reopen_plan", "Reopen the plan for editing"
    APPROVE_PLAN = "approve_plan", "Approve the plan on behalf of the Health and Wellbeing Board"
    MARK_SUBMITTED = "mark_submitted", "Mark the plan as submitted to NHS England"


VIEW_AREA = "view_area"  # Django's own view permission on Area
MANAGE_MEMBERS = AreaPermission.MANAGE_MEMBERS.value
EDIT_PLAN = AreaPermission.EDIT_PLAN.value
EDIT_FINANCE = AreaPermission.EDIT_FINANCE.value
COMMENT_PLAN = AreaPermission.COMMENT_PLAN.value
ASSIGN_PARTS = AreaPermission.ASSIGN_PARTS.value
SUBMIT_PLAN = AreaPermission.SUBMIT_PLAN.value
REOPEN_PLAN = AreaPermission.REOPEN_PLAN.value
APPROVE_PLAN = AreaPermission.APPROVE_PLAN.value
MARK_SUBMITTED = AreaPermission.MARK_SUBMITTED.value
