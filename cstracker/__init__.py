"""cstracker: the Contextual Safeguarding Referral Tracker toolkit."""

__version__ = "0.1.0"
