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
    """The parts of the Draft Plan Submission Template, in template order."""

    SUMMARY = "summary", "Plan summary"
    PROVIDER_ENGAGEMENT = "provider_engagement", "Service provider engagement"
    PUBLIC_ENGAGEMENT = "public_engagement", "Patient, service user and public engagement"
    RELATED_DOCUMENTS = "related_documents", "Related documentation"
    VISION = "vision", "Vision for health and care services"
    AIMS = "aims", "Integration aims and objectives"
    PLANNED_CHANGES = "planned_changes", "Description of planned changes"
    ACUTE_SECTOR = "acute_sector", "Implications for the acute sector"
    GOVERNANCE = "governance", "Governance"
    PROTECTING_SOCIAL_CARE = "protecting_social_care", "Protecting social care services"
    SEVEN_DAY_SERVICES = "seven_day_services", "7-day services to support discharge"
    DATA_SHARING = "data_sharing", "Data sharing"
    JOINT_ASSESSMENT = "joint_assessment", "Joint assessments and accountable lead professional"
    METRICS = "metrics", "Outcomes and metrics"
    CONTRIBUTIONS = "contributions", "Pooled fund contributions"
    ARRANGEMENTS = "arrangements", "Pooled fund arrangements"
    SCHEMES = "schemes", "Where the pooled budget will be spent"
    SPEND = "spend", "Health and care spend"
    CONTINGENCY = "contingency", "Contingency plan"
    RISKS = "risks", "Key risks"


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
