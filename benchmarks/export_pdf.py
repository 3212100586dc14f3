"""The PDF board paper of Plymouth's demo plan against WeasyPrint rendering the same HTML.

The app's figure is the whole `plan_export_pdf` call: the snapshot, charts and sign-off reads,
the template, WeasyPrint and the Export log row. The floor is WeasyPrint alone writing the same
HTML (rendered once, beforehand) with the same print stylesheet. Prints the median time of each
and their ratio.
"""

import os
import statistics
import sys
import time
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itf_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.staticfiles import finders  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from weasyprint import CSS, HTML  # noqa: E402

ROUNDS = 7
AREA = os.environ.get("BENCH_AREA", "plymouth")


def floor_pdf(html: str) -> bytes:
    """The least a board paper must do: WeasyPrint with the print stylesheet."""
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=finders.find("print/plan.css"))])


def median_seconds(call) -> float:
    call()
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    from django.contrib.auth import get_user_model
    from pypdf import PdfReader

    from plans.exports.service import plan_export_pdf, plan_print_html
    from plans.models import Area
    from plans.services import plan_current_round, plan_open

    setup_test_environment()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        with open(os.devnull, "w") as quiet:
            call_command("load_demo", stdout=quiet)
        plan = plan_open(area=Area.objects.get(slug=AREA), round=plan_current_round())
        user = get_user_model().objects.get(username=f"{AREA}-reviewer")
        html, _ = plan_print_html(plan)
        assert plan_print_html(plan)[0] == html, "the floor must print what the app prints"
        pdf, _ = plan_export_pdf(plan=plan, user=user)
        pages = len(PdfReader(BytesIO(pdf)).pages)
        assert len(PdfReader(BytesIO(floor_pdf(html))).pages) == pages

        app = median_seconds(lambda: plan_export_pdf(plan=plan, user=user))
        floor = median_seconds(lambda: floor_pdf(html))
        print(
            f"PDF export, {AREA} demo plan ({pages} pages, {len(html) // 1024} KiB of HTML): "
            f"app {app * 1000:.0f} ms, floor {floor * 1000:.0f} ms"
        )
        print(f"ratio app/floor: {app / floor:.2f}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
