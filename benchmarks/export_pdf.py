"""The PDF board paper of Plymouth's demo plan against WeasyPrint rendering the same HTML.

The app's figure is the whole `plan_export_pdf` call: the snapshot, charts and sign-off reads,
the template, WeasyPrint and the Export log row. The floor is WeasyPrint alone writing the same
HTML (rendered once, beforehand) with the same print stylesheet. Prints the median time of each
and their ratio.
"""

import os
from io import BytesIO

from common import median_seconds, throwaway_database  # sets Django up first
from django.contrib.staticfiles import finders
from django.core.management import call_command
from weasyprint import CSS, HTML

ROUNDS = 7
AREA = os.environ.get("BENCH_AREA", "plymouth")


def floor_pdf(html: str) -> bytes:
    """The least a board paper must do: WeasyPrint with the print stylesheet."""
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=finders.find("print/plan.css"))])


def main():
    from django.contrib.auth import get_user_model
    from pypdf import PdfReader

    from plans.exports.service import plan_export_pdf, plan_print_html
    from plans.models import Area
    from plans.services import plan_current_round, plan_open

    with throwaway_database():
        with open(os.devnull, "w") as quiet:
            call_command("load_demo", stdout=quiet)
        plan = plan_open(area=Area.objects.get(slug=AREA), round=plan_current_round())
        user = get_user_model().objects.get(username=f"{AREA}-reviewer")
        html, _ = plan_print_html(plan)
        assert plan_print_html(plan)[0] == html, "the floor must print what the app prints"
        pdf, _ = plan_export_pdf(plan=plan, user=user)
        pages = len(PdfReader(BytesIO(pdf)).pages)
        assert len(PdfReader(BytesIO(floor_pdf(html))).pages) == pages

        app = median_seconds(lambda: plan_export_pdf(plan=plan, user=user), rounds=ROUNDS, warmup=1)
        floor = median_seconds(lambda: floor_pdf(html), rounds=ROUNDS, warmup=1)
        print(
            f"PDF export, {AREA} demo plan ({pages} pages, {len(html) // 1024} KiB of HTML): "
            f"app {app * 1000:.0f} ms, floor {floor * 1000:.0f} ms"
        )
        print(f"ratio app/floor: {app / floor:.2f}")


if __name__ == "__main__":
    main()
