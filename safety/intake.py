"""Request intake: what a caller sent, decoded within the ceilings and validated, once.

Every way media enters (Generate, Check, Sign) comes through here: bytes become pixels
only through `media/`, within the configured limits, before any check runs; a request
is refused here, with what to fix, rather than half-run. The front door hands over plain
values (no protobuf) and gets domain objects back.

Which backend makes a request is chosen here too: the one that uses every input it
carries. A driving video sent to a text-to-video model would otherwise be moderated,
recorded as an ingredient, and then silently ignored. The prompt is always moderated and
recorded; an image-only pipeline not being steered by it is declared by the pipeline,
not an input lost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial

from generator.base import DRIVING_VIDEO, IMAGE, TEXT, Generator, capabilities
from indexes.hashbank import MIN_QUALITY, Bank, media_hashes
from indexes.pdq import from_hex
from media.decode import DecodedImage, Frame, VideoLimits, decode_image
from media.sampling import Sampling, decode_video, frames_within, motion_frames
from media.sniff import sniff_mime
from safety.errors import FailedPrecondition, InvalidInput
from safety.job import Clip, DrivingVideo, GenerateJob, OutputSpec, SignableMedia, validate_output
from signing.carried import CarriedError, carried_pictures
from signing.manifest import Ingredient, ManifestSpec
from signing.source_types import TRAINED_ALGORITHMIC_MEDIA, generated_source_type

# What Provenance.Sign embeds manifests into: MIME type -> file extension.
SIGNABLE = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
}


@dataclass(frozen=True)
class Limits:
    """The ceilings on what one request may carry (the config's max_* settings, which
    hold their defaults: `Config.limits`)."""

    max_prompt_chars: int
    max_image_pixels: int
    max_video_seconds: float
    max_video_side: int
    max_output_side: int
    max_output_frames: int
    sampling: Sampling
    sign_refuse_audio: bool  # sign no audio the visual checks cannot moderate

    @property
    def video(self) -> VideoLimits:
        return VideoLimits(self.max_video_seconds, self.max_video_side, self.max_image_pixels)


@dataclass(frozen=True)
class ClientClaims:
    """What a Sign caller says of its file: recorded as its claim, never as our finding."""

    digital_source_type: str = ""
    generator_name: str = ""
    generator_version: str = ""
    model_id: str = ""


class Intake:
    def __init__(self, limits: Limits, backends: list[Generator | None]) -> None:
        self.limits = limits
        # In order of preference: the configured generator, then (if any) the built-in
        # performance transfer for requests with a driving video the first cannot use.
        self.backends = backends

    # ---- Generate -------------------------------------------------------------------

    def generate_job(
        self,
        request_id: str,
        tenant: str,
        prompt: str,
        image: bytes | None,
        output: OutputSpec,
        driving_video: bytes | None,
    ) -> GenerateJob:
        """The request as the gate runs it, its backend chosen: refused now (invalid, or
        FAILED_PRECONDITION when no backend uses every input) before any check runs."""
        prompt = self.prompt(prompt)
        if not prompt:
            raise InvalidInput("prompt is empty; describe the video to generate")
        limits = self.limits
        decoded = (
            decode_image(image, max_pixels=limits.max_image_pixels, label="input image")
            if image is not None
            else None
        )
        output = validate_output(
            output, max_side=limits.max_output_side, max_frames=limits.max_output_frames
        )
        driving, carried = None, []
        if image is not None:
            carried += self.carried(image, "input_image")
        if driving_video is not None:
            carried += self.carried(driving_video, "driving_video")
            sampled, _ = decode_video(
                driving_video, limits.video, limits.sampling, label="driving video"
            )
            driving = DrivingVideo(
                driving_video,
                sniff_mime(driving_video) or "video/mp4",
                sampled.frames,
                sampled.total,
                motion_frames(driving_video, output.fps, output.num_frames),
                partial(frames_within, driving_video, sampling=limits.sampling),
            )
        job = GenerateJob(request_id, tenant, prompt, decoded, output, driving, tuple(carried))
        return replace(job, backend=self.backend_for(job))

    def backend_for(self, job: GenerateJob) -> Generator:
        """The first backend that accepts every input of `job` and has every one it
        needs; FailedPrecondition naming each backend and what it lacks when none does."""
        given = ({IMAGE} if job.image else set()) | ({DRIVING_VIDEO} if job.driving else set())
        why = []
        for backend in self.backends:
            if backend is None:
                continue
            accepts, needs = capabilities(backend)
            unused, missing = given - accepts - {TEXT}, needs - given
            if not unused and not missing:
                return backend
            lacks = f"cannot use {_listed(unused)}" if unused else f"needs {_listed(missing)}"
            why.append(f"generator {backend.name!r} {lacks}")
        raise FailedPrecondition(f"no generator here takes this request: {'; '.join(why)}")

    # ---- Check ----------------------------------------------------------------------

    def prompt(self, prompt: str) -> str:
        """The prompt stripped, within the length ceiling ("" when none was sent)."""
        prompt = prompt.strip()
        if len(prompt) > self.limits.max_prompt_chars:
            raise InvalidInput(
                f"prompt has {len(prompt)} characters, over the "
                f"{self.limits.max_prompt_chars} limit"
            )
        return prompt

    def media_clip(self, data: bytes, label: str = "media") -> Clip:
        """An uploaded image (one frame, and its EXIF thumbnail) or video (sampled frames)
        as a clip, within the ceilings; subject "<label>" or "<label>_video"."""
        limits = self.limits
        if sniff_mime(data).startswith("video/"):
            sampled, info = decode_video(data, limits.video, limits.sampling, label=label)
            around = partial(frames_within, data, sampling=limits.sampling)
            return Clip(f"{label}_video", sampled.frames, info.audio_streams, sampled.total, around)
        image = decode_image(data, max_pixels=limits.max_image_pixels, label=label)
        return Clip(label, [Frame(0.0, pixels) for pixels in image.all_pixels()])

    def media_clips(self, data: bytes, label: str = "media") -> list[Clip]:
        """`media_clip`, and the pictures riding inside the file (`carried`)."""
        return [self.media_clip(data, label), *self.carried(data, label)]

    def carried(self, data: bytes, label: str) -> list[Clip]:
        """What rides inside a file and would ride into our signed output: every picture
        its C2PA manifest store carries (claim and ingredient thumbnails), decoded like an
        upload, as a clip "<label>_carried" (none if it has no store). A store that cannot
        be read, or a picture that cannot be decoded, refuses the request: our signature
        never covers bytes we did not check."""
        if b"c2pa" not in data:  # the label of every embedded manifest store's JUMBF box
            return []
        try:
            pictures = carried_pictures(data, sniff_mime(data) or "application/octet-stream")
        except CarriedError as e:
            raise InvalidInput(f"{label.replace('_', ' ')} {e}") from None
        frames = [
            Frame(0.0, pixels)
            for where, body in pictures
            for pixels in self.image(body, f"{label.replace('_', ' ')}'s {where}").all_pixels()
        ]
        return [Clip(f"{label}_carried", frames)] if frames else []

    def image(self, data: bytes, label: str) -> DecodedImage:
        """One uploaded image (an enrolment's reference photo), within the ceilings."""
        return decode_image(data, max_pixels=self.limits.max_image_pixels, label=label)

    def bank_hashes(self, bank: Bank, pdq_hex: list[str], media: bytes | None) -> list[str]:
        """The PDQ hashes to add to `bank`: those given (checked), and those of the media's
        frames. A known-CSAM list takes hashes only: its media is never decoded or kept."""
        hashes = []
        for text in pdq_hex:
            try:
                from_hex(text.strip().lower())
            except ValueError as e:
                raise InvalidInput(f"not a PDQ hash: {text!r} ({e})") from None
            hashes.append(text.strip().lower())
        if media is not None and bank.csam:
            raise InvalidInput(
                f"bank {bank.name!r} is a known-CSAM list: it takes PDQ hashes only, not media"
            )
        if media is not None:
            hashed = media_hashes([f.pixels for f in self.media_clip(media).frames])
            if not hashed:
                raise InvalidInput(
                    f"no frame of the media has a PDQ quality of {MIN_QUALITY} or more (flat or "
                    "featureless content matches too much to bank)"
                )
            hashes += hashed
        if not hashes:
            raise InvalidInput("nothing to add: send media or PDQ hashes")
        return hashes

    # ---- Sign -----------------------------------------------------------------------

    def signable(
        self,
        data: bytes,
        title: str,
        claims: ClientClaims,
        ingredients: list[tuple[str, str, bytes]],
    ) -> tuple[SignableMedia, ManifestSpec]:
        """Media made elsewhere, to be checked like an output and signed if allowed, and
        the manifest it would carry (moderation and training-mining filled in by the
        gate). `ingredients`: (filename, declared MIME type, bytes) each."""
        mime = sniff_mime(data)
        if mime not in SIGNABLE:
            raise InvalidInput(
                f"media is {mime or 'in an unsupported format'}; sign JPEG, PNG, WebP, MP4 or MOV"
            )
        try:
            source_type = generated_source_type(
                claims.digital_source_type or TRAINED_ALGORITHMIC_MEDIA
            )
        except ValueError as e:
            raise InvalidInput(str(e)) from None
        clip = self.media_clip(data)
        if clip.audio_streams and self.limits.sign_refuse_audio:
            raise InvalidInput(
                f"media has {clip.audio_streams} audio stream(s), and this deployment signs "
                "no audio it cannot moderate; remove the audio and retry"
            )
        parts, carried = [], self.carried(data, "media")
        for i, (filename, declared, body) in enumerate(ingredients):
            if not body:
                raise InvalidInput(f"ingredient {i + 1} is empty")
            if not sniff_mime(body).startswith(("image/", "video/")):
                raise InvalidInput(
                    f"ingredient {i + 1} is not an image or a video; ingredients are checked "
                    "like the file they went into, so only media ingredients are signed"
                )
            carried += self.media_clips(body, f"ingredient_{i + 1}")
            parts.append(
                Ingredient(
                    filename or f"ingredient-{i + 1}",
                    sniff_mime(body) or declared or "application/octet-stream",
                    body,
                )
            )
        spec = ManifestSpec(
            title=title or f"signed.{SIGNABLE[mime]}",
            generator_name=claims.generator_name or "unspecified",
            generator_version=claims.generator_version,
            model_id=claims.model_id,
            moderation={},
            ingredients=parts,
            digital_source_type=source_type,
        )
        stated = {
            "digital_source_type": source_type,
            "generator_name": spec.generator_name,
            "generator_version": spec.generator_version,
            "model_id": spec.model_id,
        }
        return SignableMedia(data, mime, clip, stated, tuple(carried)), spec


def _listed(inputs: set[str]) -> str:
    return " and ".join(sorted(i.replace("_", " ") for i in inputs))
