"""TrustMark (Adobe's learned image watermark) carrying the manifest id, with weights the
operator provides: `watermark_backend = "trustmark:/dir"` (`pip install '.[trustmark]'`).

The trustmark package fetches its weights from Adobe's server at first use into its own
folder, which fails offline (and it reports a failed fetch by printing and going on with
no model). Here its loader is pointed at `weights_dir`, every file must match the md5
sum the package publishes for it, and nothing is ever fetched. Each frame carries the
64-bit payload under TrustMark's BCH_4 error correction (68 data bits), so a reading is
either a payload the code corrects (confidence 1) or nothing (confidence 0).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from signing.watermark import BITS, PAYLOAD_BYTES, Reading, check_payload

VARIANTS = ("Q", "B", "C", "P")


def weight_files(variant: str) -> list[str]:
    """What `weights_dir` must hold for a variant (TrustMark's own file names)."""
    return [f"trustmark_{variant}.yaml", f"encoder_{variant}.ckpt", f"decoder_{variant}.ckpt"]


class TrustMarkWatermarker:
    def __init__(self, weights_dir: Path, variant: str = "Q", device: str = "cpu") -> None:
        try:
            from trustmark import TrustMark
            from trustmark import trustmark as published
        except ImportError as e:
            raise RuntimeError(
                f"watermark_backend trustmark needs the trustmark package ({e}): "
                "pip install '.[trustmark]'"
            ) from None
        if variant not in VARIANTS:
            raise ValueError(f"TrustMark variant {variant!r} is not one of {', '.join(VARIANTS)}")
        for name in weight_files(variant):
            path = weights_dir / name
            if not path.is_file():
                raise ValueError(
                    f"{path} is missing: copy TrustMark's published {variant} weights "
                    f"({', '.join(weight_files(variant))}) into {weights_dir}; "
                    "nothing is downloaded"
                )
            digest = hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
            if digest != published.MODEL_CHECKSUMS[name]:
                raise ValueError(f"{path} is not TrustMark's published {name} (md5 differs)")
        self.alg = f"com.adobe.trustmark.{variant}"
        self._tm = _local_trustmark(TrustMark, weights_dir)(
            use_ECC=True,
            verbose=False,
            model_type=variant,
            encoding_type=TrustMark.Encoding.BCH_4,
            device=device,
            loadRemover=False,
        )

    def embed(self, rgb: np.ndarray, payload: bytes) -> np.ndarray:
        check_payload(payload)
        bits = "".join(f"{byte:08b}" for byte in payload)
        marked = self._tm.encode(Image.fromarray(rgb), bits, MODE="binary")
        return np.asarray(marked, dtype=np.uint8)

    def read(self, frames: Iterable[np.ndarray]) -> Reading:
        """The payload most frames decode to with a valid error-correcting code."""
        found = Counter()
        for frame in frames:
            bits, detected, _ = self._tm.decode(Image.fromarray(frame), MODE="binary")
            if detected and len(bits) >= BITS:
                found[int(bits[:BITS], 2).to_bytes(PAYLOAD_BYTES, "big")] += 1
        if not found:
            return Reading(bytes(PAYLOAD_BYTES), 0.0)
        return Reading(found.most_common(1)[0][0], 1.0)


def _local_trustmark(base: type, weights_dir: Path) -> type:
    """TrustMark whose loader reads `weights_dir` (files checked above) and never fetches."""

    class LocalTrustMark(base):
        def check_and_download(self, filename):
            if not Path(filename).is_file():
                raise FileNotFoundError(filename)

        def load_model(self, config_path, weight_path, device, secret_len, part="all"):
            config_path = str(weights_dir / Path(config_path).name)
            weight_path = str(weights_dir / Path(weight_path).name)
            model = super().load_model(config_path, weight_path, device, secret_len, part)
            if model is None:  # its loader prints the error and returns None
                raise RuntimeError(f"TrustMark's {part} did not load from {weights_dir}")
            return model

    return LocalTrustMark
