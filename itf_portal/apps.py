from django.apps import AppConfig
from django.contrib.staticfiles.apps import StaticFilesConfig


class ItfPortalConfig(AppConfig):
    name = "itf_portal"
    verbose_name = "ITF Portal"


class NhsukStaticFilesConfig(StaticFilesConfig):
    """Collect only what the pages use from the NHS.UK frontend package: its built CSS, JS and
    images (and their source maps) — not its Sass sources, per-component modules or templates."""

    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "*.scss",
        "*.d.mts",
        "*.njk",
        "*.md",
        "*.json",
        "nhsuk-frontend.js*",
        "nhsuk-frontend.css*",
        "nhsuk-frontend-*",
        "nhsuk-dynamic-type*",
        "nhsuk.*",
        "index.*",
        "*component.*",
        "i18n.*",
        "components",
        "common",
        "core",
        "errors",
        "lib",
        "macros",
    ]
