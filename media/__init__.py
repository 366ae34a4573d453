"""Untrusted media: the one door through which bytes become pixels.

Probing and decoding within limits (`decode`), which frames of a video are checked
(`sampling`), what a file is (`sniff`), and writing and patching MP4 (`mp4`). It imports
nothing of reelguard's: the generator, signing, indexes and the domain all stand on it."""


# The one error media raises. It is the sender's to fix (re-export, trim, resize), so the
# front door maps it to INVALID_ARGUMENT like the domain's `InvalidInput`; this package
# imports nothing of ours, so it cannot raise that one.
class InvalidMedia(ValueError):
    """Media that is empty, corrupt, hostile or past a configured ceiling."""
