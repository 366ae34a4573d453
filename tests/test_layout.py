"""The layout rules the import-linter contracts cannot express (see pyproject.toml)."""

import ast
import re
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


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports, at any depth of the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_domain_keeps_at_most_a_dozen_modules_at_its_top():
    """The rest lives in rooms: moderators, likeness, policy, review, provenance, store."""
    loose = sorted(p.name for p in (ROOT / "safety").glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= 12, loose


def test_servicers_import_no_media_library():
    """A servicer hands bytes to the domain (safety/intake.py), which decodes them through
    media/; it may name media's error, nothing that decodes."""
    decoding = {"av", "PIL", "numpy", "cv2", "media"}
    for path in sorted((ROOT / "safety" / "service" / "api").glob("*.py")):
        for name in imported_modules(path):
            assert name == "media" or name.split(".")[0] not in decoding, (path.name, name)


def test_no_two_modules_share_a_name():
    packages = ("safety", "signing", "indexes", "generator", "media")
    seen: dict[str, str] = {}
    for path in hand_written_sources():
        rel = path.relative_to(ROOT)
        if rel.parts[0] not in packages or path.name == "__init__.py":
            continue
        assert path.name not in seen, f"{rel} and {seen[path.name]} share a name"
        seen[path.name] = str(rel)


def test_the_docs_name_only_tests_that_exist():
    """docs/threat-model.md and docs/fail-closed.md name the test behind each row: by
    path, by the test file's name (which must be one file's), or as `::test` of the file
    named before it on the line."""
    by_name: dict[str, list[Path]] = {}
    for path in (ROOT / "tests").rglob("test_*.py"):
        by_name.setdefault(path.name, []).append(path)
    reference = re.compile(r"((?:tests/[\w/]+|(?<![\w/])test_\w+)\.py)?::(\w+)|(tests/[\w/]+\.py)")
    named = 0
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number, line in enumerate(doc.read_text().splitlines(), 1):
            where = f"{doc.name}:{number}"
            last = None
            for file, test, bare in reference.findall(line):
                if file or bare:
                    found = (
                        [ROOT / (file or bare)]
                        if (file or bare).startswith("tests/")
                        else (by_name.get(file, []))
                    )
                    assert len(found) == 1 and found[0].exists(), f"{where}: {file or bare}"
                    last = found[0]
                if test:
                    assert last is not None, f"{where}: ::{test} names no file before it"
                    assert f"def {test}(" in last.read_text(), f"{where}: {last.name}::{test}"
                named += 1
    assert named > 100
