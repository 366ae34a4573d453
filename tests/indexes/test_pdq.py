"""PDQ against Meta's reference implementation.

The expected hashes were computed by the reference C++ (the `pdqhash` 0.2.8 wheel, in
a separate numpy-1 environment, since that wheel cannot import beside numpy 2) on the
same RGB arrays: pdqhash.compute(array) bit vectors, written in Meta's hex form.
"""

import io

import numpy as np
import pytest
import skimage.data
from matplotlib import cbook
from PIL import Image

from indexes.pdq import from_hex, hamming, pdq, to_hex

REFERENCE = {
    "astronaut": "2d6b1af3a956c529e79ca3d2526fa834d4196c81cedd04de0a26b855fc99b724",
    "coffee": "8c629e779a663698b9a33866c026726c21a679f61eb6e1f8c79ba7e23c8299e0",
    "chelsea": "5feb5321f01da156898e2bf629a5d3438412cdbd23f48942464526315db33ffd",
    "camera": "dc9c9d3b746978f888f40ce6e5c3f70f7266623e8d989cb99f21f2010841e1c7",
    "hopper": "cc6c7cb9fbf7c44f31837672900233f3ffd9d012223ccdf561606309dd97c020",
}


def images() -> dict[str, np.ndarray]:
    return {
        "astronaut": skimage.data.astronaut(),
        "coffee": skimage.data.coffee(),
        "chelsea": skimage.data.chelsea(),
        "camera": np.stack([skimage.data.camera()] * 3, axis=-1),
        "hopper": np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB")),
    }


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_matches_the_reference_implementation(name):
    bits, quality = pdq(images()[name])
    assert to_hex(bits) == REFERENCE[name]
    assert quality == 100


def test_hex_round_trip_and_hamming():
    bits = from_hex(REFERENCE["coffee"])
    assert to_hex(bits) == REFERENCE["coffee"] and bits.sum() == 128
    assert hamming(bits, bits) == 0
    assert hamming(from_hex(REFERENCE["coffee"]), from_hex(REFERENCE["chelsea"])) > 90


def test_robust_to_re_encoding_and_resizing_but_not_to_other_content():
    photo = skimage.data.chelsea()
    base, _ = pdq(photo)
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=40)
    jpeg, _ = pdq(np.asarray(Image.open(buf)))
    small, _ = pdq(np.asarray(Image.fromarray(photo).resize((225, 150))))
    other, _ = pdq(skimage.data.coffee())
    assert hamming(base, jpeg) <= 10 and hamming(base, small) <= 16
    assert hamming(base, other) > 80


def test_rows_from_bits_are_the_bytes_of_the_hex_form():
    from indexes.hamming import rows
    from indexes.pdq import to_hex, to_rows

    bits = np.random.default_rng(3).integers(0, 2, (5, 256)).astype(bool)
    assert np.array_equal(to_rows(bits), rows([to_hex(b) for b in bits]))
