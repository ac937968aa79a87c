"""The one place the version lives (setup.cfg reads it; modules import it from here, never from the package)."""

__version__ = "0.1.0"
