"""The PDF board paper of Plymouth's demo plan against WeasyPrint rendering the same HTML.

The app's figure is the whole `plan_export_pdf` call: the snapshot, charts and sign-off reads,
the template, WeasyPrint and the Export log row. The floor is WeasyPrint alone writing the same
HTML (rendered once, beforehand) with the same print stylesheet. Prints the median time of each
and their ratio.

Then the same plan sealed: its PDF downloaded through the whole stack (Django test client) from
the file the task worker printed and kept, against printing it afresh (`plan_export_pdf`).
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

    from plans.exports.service import plan_export_pdf, plan_print_html
    from plans.models import Area
    from plans.services import plan_current_round, plan_open

    with throwaway_database():
        with open(os.devnull, "w") as quiet:
            call_command("load_demo", "--drafting", stdout=quiet)
        plan = plan_open(area=Area.objects.get(slug=AREA), round=plan_current_round())
        user = get_user_model().objects.get(username=f"{AREA}-reviewer")
        html, _ = plan_print_html(plan)
        assert plan_print_html(plan)[0] == html, "the floor must print what the app prints"
        pdf, _ = plan_export_pdf(plan=plan, user=user)
        pages = page_count(pdf)
        assert page_count(floor_pdf(html)) == pages

        app = median_seconds(lambda: plan_export_pdf(plan=plan, user=user), rounds=ROUNDS, warmup=1)
        floor = median_seconds(lambda: floor_pdf(html), rounds=ROUNDS, warmup=1)
        print(
            f"PDF export, {AREA} demo plan ({pages} pages, {len(html) // 1024} KiB of HTML): "
            f"app {app * 1000:.0f} ms, floor {floor * 1000:.0f} ms"
        )
        print(f"ratio app/floor: {app / floor:.2f}")
        kept_against_fresh(plan, user)


def kept_against_fresh(plan, user):
    from django.test import Client
    from django.urls import reverse

    from governance.models import ExportFile
    from governance.signoff import plan_submit_for_signoff
    from plans.exports.service import pdf_print_file, plan_export_pdf
    from plans.models import Plan
    from tests.factories import plan_make_ready

    commissioner = type(user).objects.get(username=f"{AREA}-commissioner")
    plan_make_ready(plan, commissioner)
    plan_submit_for_signoff(plan=plan, user=commissioner)
    plan = Plan.objects.get(pk=plan.pk)
    client = Client()
    client.force_login(user)
    url = reverse("plan_export_pdf", args=[plan.area.slug, plan.round.slug])
    assert client.get(url).status_code == 202  # asked for: the worker prints it
    pdf_print_file.call(ExportFile.objects.get(plan=plan, status=ExportFile.PRINTING).pk)

    def download() -> bytes:
        answer = client.get(url)
        assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
        return answer.content

    assert page_count(download()) == page_count(plan_export_pdf(plan=plan, user=user)[0])
    kept = median_seconds(download, rounds=ROUNDS, warmup=1)
    fresh = median_seconds(lambda: plan_export_pdf(plan=plan, user=user), rounds=ROUNDS, warmup=1)
    print(
        f"Sealed PDF download, {AREA}: from the kept file {kept * 1000:.0f} ms, "
        f"printed afresh {fresh * 1000:.0f} ms"
    )
    print(f"ratio kept/fresh: {kept / fresh:.3f}")


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


if __name__ == "__main__":
    main()
