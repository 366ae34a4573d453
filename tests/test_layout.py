"""The layout rules the import-linter contracts cannot express (see pyproject.toml)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 400


def hand_written_sources() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / p for p in listed if "_pb2" not in p and (ROOT / p).exists()]


def test_no_hand_written_source_file_is_over_400_lines():
    sources = hand_written_sources()
    assert len(sources) > 50  # the listing really found the tree
    too_long = {
        str(p.relative_to(ROOT)): n
        for p in sources
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not too_long, f"split these (over {MAX_LINES} lines): {too_long}"
