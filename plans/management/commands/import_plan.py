import html
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plans.exports.importer import ImportStale, import_apply, import_pending, import_preview
from plans.exports.reader import MAX_BYTES, WorkbookRefused
from plans.models import Area
from plans.services import PlanNotEditable, plan_current_round, plan_open

_MARKS = {"<del>": "[-", "</del>": "-]", "<ins>": "{+", "</ins>": "+}"}


def as_text(change_html: str) -> str:
    """A change's marked-up difference as plain text: [-removed-] {+added+}."""
    marked = re.sub(r"</?(del|ins)>", lambda m: _MARKS[m.group(0)], str(change_html))
    return html.unescape(marked)


class Command(BaseCommand):
    help = (
        "Import an edited plan workbook into an area's plan in Drafting. Prints every change "
        "first; --dry-run stops there."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--area", required=True, help="The area's short name, e.g. walsall")
        parser.add_argument("--dry-run", action="store_true", help="Show the changes only.")
        parser.add_argument(
            "--overwrite-conflicts",
            action="store_true",
            help="Also import parts changed in the portal since the workbook was exported.",
        )

    def handle(self, *args, path: Path, area: str, dry_run: bool, **options):
        found = Area.objects.filter(slug=area).first()
        if found is None:
            raise CommandError(f"No area with the short name “{area}”.")
        try:
            if path.stat().st_size > MAX_BYTES:
                raise CommandError(f"{path} is over 5 MB, the largest workbook we accept.")
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error}") from error
        plan = plan_open(area=found, round=plan_current_round())
        try:
            preview = import_preview(plan=plan, user=None, data=data)
        except WorkbookRefused as refused:
            raise CommandError(
                "The workbook was not imported; nothing changed:\n  "
                + "\n  ".join(refused.messages)
            ) from None
        for notice in preview.notices:
            self.stdout.write(notice)
        for left in preview.left_out:
            self.stdout.write(self.style.WARNING(f"Not imported: {left.title}"))
            for reason in left.reasons:
                self.stdout.write(f"  {reason}")
        if not preview.parts:
            self.stdout.write("The workbook is the same as the plan: nothing to import.")
            return
        for part in preview.parts:
            self.stdout.write(self.style.MIGRATE_HEADING(part.title))
            if part.conflict:
                self.stdout.write(self.style.WARNING(f"  Conflict: {part.conflict}"))
            for change in part.changes:
                self.stdout.write(f"  {change.label}: {as_text(change.html)}")
        if dry_run:
            self.stdout.write(f"Dry run: {len(preview.parts)} part(s) would change; nothing was.")
            return
        overwrite = {p.key for p in preview.parts} if options["overwrite_conflicts"] else set()
        pending = import_pending(plan=plan, user=None, preview=preview, file_name=path.name)
        try:
            saved = import_apply(pending=pending, user=None, overwrite=overwrite)
        except (ImportStale, PlanNotEditable) as refusal:
            raise CommandError(str(refusal)) from None
        skipped = len(preview.parts) - len(saved)
        self.stdout.write(self.style.SUCCESS(f"Imported {len(saved)} part(s) from {path.name}."))
        if skipped:
            self.stdout.write(
                f"{skipped} part(s) changed in the portal since the export were kept as they "
                "are; use --overwrite-conflicts to import them too."
            )
