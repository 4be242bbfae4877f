"""The floors are checked, not just written down: `lint-imports` (make lint, CI) keeps every part
importing only the parts below it, counting imports inside functions, and fails when one does
not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(src: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_its_floors():
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_import_upwards_inside_a_function_breaks_the_contract(tmp_path):
    """orders reaching up into billing, even from inside a function, fails the check; so does
    core importing a business part."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "yuyue", src / "yuyue", ignore=shutil.ignore_patterns("*.pyc"))
    with (src / "yuyue" / "orders" / "checkin.py").open("a") as f:
        f.write("\n\ndef _sneak():\n    from yuyue.billing import ledger\n\n    return ledger\n")
    with (src / "yuyue" / "core" / "audit.py").open("a") as f:
        f.write("\n\ndef _peek():\n    import yuyue.orders.models\n\n    return yuyue.orders\n")
    result = _lint(src)
    assert result.returncode != 0
    assert "yuyue.orders.checkin -> yuyue.billing.ledger" in result.stdout, result.stdout
    assert "yuyue.core.audit -> yuyue.orders.models" in result.stdout, result.stdout


def test_files_and_functions_stay_short_enough_to_read():
    """No source file over 500 lines, no function over 80 (migrations are generated): a part that
    outgrows them is split by what it does (web/customer: booking, onsite, paying, following…)."""
    import ast

    long_files, long_functions = [], []
    for path in sorted((ROOT / "src" / "yuyue").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT / "src")
        if len(text.splitlines()) > 500:
            long_files.append(f"{where}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > 80:
                    long_functions.append(f"{where}:{node.lineno} {node.name}: {length} lines")
    assert not long_files, long_files
    assert not long_functions, long_functions
