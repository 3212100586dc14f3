"""LibreOffice headless, as a reader of our workbooks would open and save them."""

import shutil
import subprocess
from pathlib import Path

import pytest

# Calc's "recalculate on file load", 0 = always: by default it keeps any value cached in the file.
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculated(workbooks: list[Path], tmp_path: Path, to: str = "xlsx") -> Path:
    """The folder where LibreOffice saved each workbook (same name) after recalculating it, or
    printed it, `to="pdf"`."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail(
            "LibreOffice's soffice is missing: `make test` installs Debian's "
            "libreoffice-calc-nogui (as root), or run: "
            "sudo apt-get install --no-install-recommends libreoffice-calc-nogui"
        )
    profile = tmp_path / "lo-profile"  # its own profile, so parallel runs never share a lock
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS)
    out = tmp_path / "recalculated"
    done = subprocess.run(
        [
            soffice,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            to,
            "--outdir",
            str(out),
            *map(str, workbooks),
        ],
        timeout=180,
        check=True,
        capture_output=True,
        text=True,
    )
    # soffice exits 0 even when it could not load a file: it just writes nothing.
    missing = [
        path.name for path in workbooks if not (out / path.with_suffix(f".{to}").name).exists()
    ]
    assert not missing, f"LibreOffice did not convert {missing}: {done.stderr}"
    return out
