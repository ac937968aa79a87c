from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci")

HERE = Path(__file__).parent
#: A fixed "today" for rules that look at the calendar, so tests never drift.
TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def config():
    from cstracker.core.config import load_config

    return load_config(None)


@pytest.fixture
def blank_tracker(tmp_path, config) -> Path:
    """A freshly created, empty tracker in a temporary folder."""
    from cstracker.tracker.create import create_tracker

    return create_tracker(tmp_path / "Referral Tracker.xlsx", config)


def pytest_collection_modifyitems(config, items):
    """Tests marked slow (the whole 24-month run of published packs) run only when asked for."""
    import os

    if os.environ.get("CSTRACKER_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: run with CSTRACKER_SLOW=1, or python scripts/attack_packs.py")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
