"""Ordinary people through the default checks: what would be refused, and how close.

    python bench/people_eval.py [--dir ../shared/testdata/people] [--limit N] [--file NAME ...]

Every photo and video of the people set (real actors, talking heads, portraits; see
its SOURCES.md) goes through intake and the pre-check's checks as a Check request
would, with the default policy and nobody enrolled. Printed: per file the verdict and,
per visual model and category, the highest score and its margin to the block threshold
(negative: over it); then the number not allowed, and per model the highest score among
files showing women and among files showing men (SOURCES.md's "what it shows" column
starts with F or M), so that a skew is visible. Every file should be ALLOWED with a
margin of at least 0.1 (issue 26). A score the evidence weighing did not count (a face
read as nudity: safety/moderators/evidence.py) is shown apart as "raw", and the margins
are those of the counted scores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import _util  # noqa: F401  (thread settings)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media import InvalidMedia  # noqa: E402
from safety.service.app import build_service  # noqa: E402
from safety.service.config import Config  # noqa: E402

PEOPLE = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata" / "people"
MEDIA = (".jpg", ".jpeg", ".png", ".webp", ".mp4", ".mov")
VISUAL = ("sexual", "violence", "sexual_minors")


def who(sources: Path) -> dict[str, str]:
    """file -> "women", "men" or "mixed", from SOURCES.md's "what it shows" column."""
    out = {}
    for line in sources.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 8 and cells[0].split(".")[-1] in ("jpg", "png", "mp4"):
            first = cells[6].split(",")[0].strip()
            out[cells[0]] = {"F": "women", "M": "men"}.get(first, "mixed")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=PEOPLE)
    ap.add_argument("--limit", type=int, default=0, help="only the first N files")
    ap.add_argument("--file", action="append", default=[], help="only this file (repeatable)")
    args = ap.parse_args()
    if not args.dir.is_dir():
        sys.exit(f"no people set at {args.dir}")
    files = sorted(p for p in args.dir.iterdir() if p.suffix.lower() in MEDIA)
    files = [p for p in files if p.name in args.file] if args.file else files
    files = files[: args.limit] if args.limit else files
    shown = who(args.dir / "SOURCES.md") if (args.dir / "SOURCES.md").exists() else {}
    highest: dict[tuple[str, str], dict[str, float]] = {}  # (model, category) -> group -> score
    refused = []
    with tempfile.TemporaryDirectory() as tmp:
        service = build_service(Config(data_dir=Path(tmp) / "data"))
        try:
            for path in files:
                try:
                    clips = service.intake.media_clips(path.read_bytes())
                except InvalidMedia as e:
                    refused.append(path.name)
                    print(f"{path.name:40} INVALID  {e}")
                    continue
                scope = "video" if clips[0].subject.endswith("_video") else "image"
                verdict = service.gate.check("people", None, clips, scope)
                top: dict[tuple[str, str], tuple[float, float]] = {}
                raw: dict[tuple[str, str], float] = {}
                for f in verdict.findings:
                    key = (f.check, f.category)
                    if f.category not in VISUAL:
                        continue
                    raw[key] = max(raw.get(key, 0.0), f.score)
                    counted = f.at_most is None or f.at_most.name != "ALLOW"
                    if f.score >= top.get(key, (-1,))[0] and counted:
                        top[key] = (f.score, f.threshold)
                    top.setdefault(key, (0.0, f.threshold))
                cells = [
                    f"{check}/{category} {score:.3f} (margin {threshold - score:+.3f})"
                    + (f" raw {raw[key]:.3f}" if raw[key] > score else "")
                    for key, (score, threshold) in sorted(top.items())
                    for check, category in [key]
                ]
                group = shown.get(path.name, "mixed")
                for key, (score, _) in top.items():
                    best = highest.setdefault(key, {})
                    best[group] = max(best.get(group, 0.0), score)
                if verdict.action.name != "ALLOW":
                    refused.append(path.name)
                print(f"{path.name:40} {verdict.action.name:6}  {'; '.join(cells)}")
        finally:
            service.close()
    print(
        f"\n{len(files) - len(refused)} of {len(files)} allowed; not allowed: {refused or 'none'}"
    )
    for (check, category), groups in sorted(highest.items()):
        by = ", ".join(f"{g} {s:.3f}" for g, s in sorted(groups.items()))
        print(f"highest {check}/{category}: {by}")


if __name__ == "__main__":
    main()
