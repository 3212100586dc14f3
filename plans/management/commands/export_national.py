from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from governance.models import CompositeExport
from plans.exports.national import composite_run
from plans.models import Area
from plans.services import plan_current_round


class Command(BaseCommand):
    help = "Write the national composite workbook: a row for every area's plan."

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args, output: Path, **options):
        job = CompositeExport.objects.create(
            round=plan_current_round(), areas_total=Area.objects.count()
        )
        composite_run(
            job.pk, report=lambda done, total: self.stderr.write(f"{done} of {total} areas")
        )
        job.refresh_from_db()
        try:
            output.write_bytes(bytes(job.data))
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error}") from error
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {output}: {job.areas_total} areas, {len(job.data):,} bytes.")
        )
