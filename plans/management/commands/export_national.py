from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from governance.models import CompositeExport
from plans.exports.national import national_workbook
from plans.models import Area
from plans.services import plan_current_round


class Command(BaseCommand):
    help = "Write the national composite workbook: a row for every area's plan."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args, output: Path, **options):
        round_, areas = plan_current_round(), Area.objects.count()
        data = national_workbook(
            round_,
            progress=lambda done, total: self.stderr.write(f"{done} of {total} areas"),
            generated_by="export_national",
        )
        # Recorded like a build from the page, once it is whole.
        CompositeExport.objects.create(
            round=round_,
            status=CompositeExport.DONE,
            areas_total=areas,
            areas_done=areas,
            data=data,
            finished_at=timezone.now(),
        )
        try:
            output.write_bytes(data)
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {output}: {areas} areas, {len(data):,} bytes.")
        )
