"""The README's commands work as a newcomer copies them: `make manage ARGS="…"` runs any
management command with the local settings (a bare `python manage.py` has none, by design)."""

import os
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from plans.services import plan_current_round, plan_open
from tests.conftest import _test_database_url
from tests.factories import area_make

README = Path(settings.BASE_DIR) / "README.md"


def _readme_commands() -> list[str]:
    return re.findall(r'`(make manage ARGS="[^"`]+")`', README.read_text())


def test_the_readme_gives_its_management_commands_through_make_manage():
    commands = _readme_commands()
    assert any("export_plan southampton --format pdf --output plan.pdf" in c for c in commands)
    # No bare `python manage.py …` outside the production section, where settings are explicit.
    local = README.read_text().split("## Running in production")[0]
    assert "python manage.py" not in local


@pytest.mark.django_db(transaction=True)
def test_the_readmes_export_command_works_as_written(tmp_path):
    area = area_make("Southampton")
    plan_open(area=area, round=plan_current_round())
    [command] = [c for c in _readme_commands() if "export_plan southampton --format pdf" in c]
    args = (
        re.search(r'ARGS="([^"]+)"', command).group(1).replace("plan.pdf", str(tmp_path / "p.pdf"))
    )
    result = subprocess.run(
        ["make", "--no-print-directory", "manage", f"ARGS={args}"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": _test_database_url()},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = "\n".join(page.extract_text() for page in PdfReader(tmp_path / "p.pdf").pages)
    assert "Southampton" in text
