"""Shared fixtures: the published-data directory and hypothesis profiles."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """``$COMBOPT_DATA`` (the layout of ../shared/data); skips when it is unset."""
    value = os.environ.get("COMBOPT_DATA")
    if not value:
        pytest.skip("COMBOPT_DATA is not set: this test needs the published instances")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"COMBOPT_DATA={value} is not a directory")
    return path
