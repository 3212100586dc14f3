"""The pooled fund's defaults. The template's fixed lists (funding streams, scheme types, risk-share
bases) are in `plans.constants`, beside the description of the template."""

DEFAULT_MATERIALITY_THRESHOLD = "500000"
DEFAULT_NOTICE_DAYS = 10

# Whether a lower figure is the better one, for each national measure: what counts as a target
# achieved unless a national admin sets otherwise (`finance.models.PerformanceMeasure`).
LOWER_IS_BETTER = {
    "Delayed transfers of care": True,
    "Emergency admissions": True,
    "Effectiveness of reablement": False,
    "Admissions to residential and nursing care": True,
    "Patient and service-user experience": False,
}
