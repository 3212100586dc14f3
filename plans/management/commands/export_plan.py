from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plans.constants import CURRENT_ROUND
from plans.exports.service import plan_export_pdf, plan_export_xlsx
from plans.models import Area
from plans.services import plan_get


class Command(BaseCommand):
    help = "Write an area's plan as the Excel submission template or a PDF board paper."

    def add_arguments(self, parser):
        parser.add_argument("area")
        parser.add_argument("--format", default="xlsx", choices=["xlsx", "pdf"])
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args, area: str, format: str, output: Path, **options):
        found = Area.objects.filter(slug=area).first()
        if found is None:
            raise CommandError(f"No area with the short name “{area}”.")
        plan = plan_get(area=found, round_slug=CURRENT_ROUND)
        if plan is None:
            raise CommandError(f"{found.name} has no plan for the current round.")
        export = plan_export_pdf if format == "pdf" else plan_export_xlsx
        data, _ = export(plan=plan, user=None)
        try:
            output.write_bytes(data)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from error
        self.stdout.write(self.style.SUCCESS(f"Wrote {output} ({len(data):,} bytes)."))
