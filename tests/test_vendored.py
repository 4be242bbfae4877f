"""Every vendored file is the one VERSIONS names: its sha256 as recorded there."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = [ROOT / "src/yuyue/web/static/web/vendor", ROOT / "tests/web/vendor"]


def recorded(folder: Path) -> dict[str, str]:
    text = (folder / "VERSIONS").read_text()
    names = re.findall(r"^([\w.\-]+): ", text, re.M)
    sums = re.findall(r"^sha256 ([0-9a-f]{64})$", text, re.M)
    assert len(names) == len(sums), "each file's line is followed by its sha256"
    return dict(zip(names, sums, strict=True))


@pytest.mark.parametrize(
    "folder", FOLDERS, ids=lambda f: f.name if f.name != "vendor" else str(f.parent.name)
)
def test_each_vendored_file_matches_its_recorded_checksum(folder):
    sums = recorded(folder)
    files = {p.name for p in folder.iterdir() if p.name != "VERSIONS"}
    assert files == set(sums), "every file recorded, nothing recorded that is not there"
    for name, want in sums.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == want, name
