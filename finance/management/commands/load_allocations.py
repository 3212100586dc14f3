from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from finance.services import allocations_load
from plans.services import plan_current_round


class Command(BaseCommand):
    help = (
        "Set each area's minimum pooled budget and performance element from a CSV file with the "
        "columns area,year,minimum,performance_element "
        "(e.g. southampton,2015/16,17285000,4321250). "
        "Every row is checked first; nothing is saved if any row is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        try:
            count = allocations_load(planning_round=plan_current_round(), text=text)
        except ValidationError as error:
            raise CommandError(
                "Nothing was saved. Fix these lines and try again:\n  "
                + "\n  ".join(error.messages)
            ) from error
        self.stdout.write(self.style.SUCCESS(f"Saved {count} allocations."))
