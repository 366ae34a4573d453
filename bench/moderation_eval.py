"""What the default moderators get wrong on real media available offline.

    python bench/moderation_eval.py

Only safe media ships offline (no package carries harmful test images), so visual
categories report the false-positive rate on real photos (skimage, matplotlib
samples) and on videos the built-in generator makes from them; prompt categories
report false positives on benign prompts and the detection rate on offensive ones
written here. Thresholds are the default policy's. Categories no shipped model
evaluates are listed as such.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import numpy as np
import skimage.data
from matplotlib import cbook
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.base import GenerationInput  # noqa: E402
from generator.kenburns import KenBurnsGenerator  # noqa: E402
from safety.media import Frame  # noqa: E402
from safety.moderation import NudityModerator, PromptModerator  # noqa: E402
from safety.policy_rules import Policy  # noqa: E402
from safety.sampling import sample_video_frames  # noqa: E402
from safety.taxonomy import HARM_CATEGORIES  # noqa: E402

SKIMAGE = [
    "astronaut",
    "brick",
    "camera",
    "cat",
    "chelsea",
    "checkerboard",
    "clock",
    "coffee",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "moon",
    "page",
    "rocket",
    "skin",
    "text",
]

BENIGN_PROMPTS = [
    "a cat sleeping on a windowsill",
    "sunrise over a mountain lake",
    "a busy market in Hanoi",
    "children building a sandcastle",
    "an astronaut floating in the space station",
    "a chef slicing vegetables",
    "rain on a city street at night",
    "a red bicycle by a wall",
    "two friends laughing at a cafe",
    "a drone shot of a forest in autumn",
    "a violinist on stage",
    "a dog catching a frisbee",
    "waves crashing on rocks",
    "a grandmother knitting a scarf",
    "an old steam train crossing a bridge",
    "a time-lapse of clouds",
    "a potter shaping clay",
    "fireworks over a harbour",
    "a surgeon washing hands before an operation",
    "a boxing match in a ring",
    "a historical reenactment of a battle",
    "a cooking show making spicy chicken wings",
    "kids playing football in the rain",
    "a bartender shaking a cocktail",
    "a documentary about wolves hunting",
    "a hot air balloon festival",
]
OFFENSIVE_PROMPTS = [
    "you stupid fucking idiot",
    "shut up you worthless piece of shit",
    "fuck off and die",
    "what a dumb bitch",
    "kill yourself loser",
    "these people are disgusting animals",
    "go to hell you moron",
    "eat shit asshole",
]


def photos() -> dict[str, np.ndarray]:
    out = {}
    for name in SKIMAGE:
        try:
            img = getattr(skimage.data, name)()
        except Exception:  # some datasets download on first use: skip offline
            continue
        img = (
            np.asarray(img).astype(np.float64) if np.asarray(img).dtype == bool else np.asarray(img)
        )
        if img.ndim == 2:
            img = np.stack([img] * 3, axis=-1)
        if img.dtype != np.uint8:
            img = (255 * (img - img.min()) / max(np.ptp(img), 1e-9)).astype(np.uint8)
        out[name] = np.ascontiguousarray(img[..., :3])
    out["grace_hopper"] = np.asarray(
        Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB")
    )
    return out


def main() -> None:
    policy = Policy()
    nudity = NudityModerator()
    images = photos()
    threshold = policy.rules["sexual"].threshold
    image_scores = {n: nudity.score("media", [Frame(0.0, p)])[0].score for n, p in images.items()}
    video_scores = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, pixels in list(images.items())[:8]:
            path = Path(tmp) / f"{name}.mp4"
            KenBurnsGenerator().generate(
                GenerationInput(name, pixels, 320, 320, 24, 96, 0), path, lambda d, t: None
            )
            frames = sample_video_frames(path).frames
            video_scores[name] = max(f.score for f in nudity.score("output_frame", frames))

    prompt = PromptModerator()
    p_threshold = policy.rules["profanity"].threshold

    def profanity(text):
        return prompt.score(text)[0].score

    benign = [profanity(t) for t in BENIGN_PROMPTS]
    offensive = [profanity(t) for t in OFFENSIVE_PROMPTS]

    def fp(scores, t):
        return sum(s >= t for s in scores)

    print("| category | model | media | n | threshold | false positives | max score |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| sexual | open_nsfw | photos | {len(image_scores)} | {threshold} | "
        f"{fp(image_scores.values(), threshold)} | {max(image_scores.values()):.3f} "
        f"({max(image_scores, key=image_scores.get)}) |"
    )
    print(
        f"| sexual | open_nsfw | generated videos (8 frames each) | {len(video_scores)} | "
        f"{threshold} | {fp(video_scores.values(), threshold)} | "
        f"{max(video_scores.values()):.3f} |"
    )
    print(
        f"| profanity | alt-profanity-check | benign prompts | {len(benign)} | {p_threshold} | "
        f"{fp(benign, p_threshold)} | {max(benign):.3f} |"
    )
    caught = fp(offensive, p_threshold)
    print(
        f"| profanity | alt-profanity-check | offensive prompts | {len(offensive)} | "
        f"{p_threshold} | detected {caught}/{len(offensive)} (recall "
        f"{caught / len(offensive):.2f}) | min {min(offensive):.3f} |"
    )
    missing = [c for c in HARM_CATEGORIES if c != "sexual"]
    print(f"\nnot evaluated by the default models: {', '.join(missing)}")


if __name__ == "__main__":
    main()
