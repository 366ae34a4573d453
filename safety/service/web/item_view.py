"""What a reviewer is shown of a held item, evidence first: why it was held (the reasons,
score against threshold, the matched person and the consent state), every subject as a
player with its flagged frames on a timeline, and the media behind each.

Subjects are what the checks looked at: the input image, the driving video, the output.
Content flagged `sexual_minors` is never shown, to anyone, on any page."""

from __future__ import annotations

from dataclasses import dataclass, field

from media.decode import decode_image
from media.sampling import frame_shown_at
from safety.store.records import ReviewItem
from safety.store.shared_media import MediaGone, SharedMedia

NEVER_SHOWN = "sexual_minors"
SUBJECT_TITLES = {
    "input_image": "Input image",
    "driving_video": "Driving video",
    "output_frame": "Output",
}


@dataclass
class Marker:
    time_s: float
    findings: list[dict] = field(default_factory=list)


@dataclass
class Subject:
    key: str  # input_image, driving_video, output_frame
    title: str
    index: int  # which medium: 0 the held output, n the n-th ingredient
    mime_type: str
    markers: list[Marker]

    @property
    def is_video(self) -> bool:
        return self.mime_type.startswith("video/")


def never_shown(item: ReviewItem) -> bool:
    return any(f.get("category") == NEVER_SHOWN for f in item.verdict.get("findings", []))


def flagged(f: dict) -> bool:
    """A finding a reviewer should look at: one the policy acted on, or a person depicted
    under a consent grant (a near miss below the threshold is not a flag)."""
    return f.get("action") in ("review", "block") or bool(f.get("consent"))


def reasons(item: ReviewItem) -> list[dict]:
    """Why it was held, strongest first: what the reviewer reads before anything else."""
    found = [f for f in item.verdict.get("reasons", [])] or [
        f for f in item.verdict.get("findings", []) if flagged(f)
    ]
    return sorted(found, key=lambda f: -float(f.get("score", 0)))


def media_of(item: ReviewItem) -> list[tuple[str, str, str]]:
    """(subject, media key, MIME type) of everything shown: the held output first, then
    each media ingredient (its subject by kind: image in, driving video in)."""
    out = [("output_frame", item.held_path, item.mime_type)]
    for ing in item.spec.get("ingredients", []):
        kind = "driving_video" if ing["mime_type"].startswith("video/") else "input_image"
        out.append((kind, ing["path"], ing["mime_type"]))
    return out


def subjects(item: ReviewItem) -> list[Subject]:
    """Each subject with its flagged frames: markers at the times findings were made
    (a face track marks every time it was seen), each with the findings of that frame."""
    found = item.verdict.get("findings", [])
    shown = []
    media = media_of(item)
    for index, (key, _, mime) in reversed(list(enumerate(media))):  # inputs first
        by_time: dict[float, Marker] = {}
        for f in found:
            if f.get("subject") != key or not flagged(f):
                continue
            for t in f.get("track_times_s") or [f.get("frame_time_s", 0.0)]:
                t = round(float(t), 3)
                by_time.setdefault(t, Marker(t)).findings.append(f)
        markers = sorted(by_time.values(), key=lambda m: m.time_s)
        shown.append(Subject(key, SUBJECT_TITLES.get(key, key), index, mime, markers))
    return shown


def medium(item: ReviewItem, index: int) -> tuple[str, str]:
    """(media key, MIME type) of the `index`-th medium (media_of's order)."""
    media = media_of(item)
    if not 0 <= index < len(media):
        raise LookupError(index)
    return media[index][1], media[index][2]


def subject_pixels(
    media: SharedMedia, item: ReviewItem, subject: str, time_s: float, max_pixels: int
):
    """What the check looked at: the input image as decoded at intake, or the frame of
    the driving video or output shown at `time_s` (upright, as a viewer sees it)."""
    for key, path, mime in media_of(item):
        if key != subject or not path:
            continue
        try:
            if mime.startswith("image/"):
                data = media.read_bytes(path)
                return decode_image(data, max_pixels=max_pixels, label=subject).pixels
            return frame_shown_at(media.path(path), time_s)
        except (MediaGone, ValueError):
            return None  # deleted after the retention period, or unreadable
    return None
