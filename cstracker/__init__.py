"""cstracker: the Contextual Safeguarding Referral Tracker toolkit."""

from cstracker.version import __version__

__all__ = ["__version__"]
