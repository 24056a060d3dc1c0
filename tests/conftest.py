import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Seeded everywhere: hypothesis derandomized, NumPy generators from fixed seeds.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
# HYPOTHESIS_PROFILE=thorough: more, random examples here, and (tests/helpers.THOROUGH)
# every registry row through every three-level mix of modes instead of a seeded sample.
settings.register_profile("thorough", derandomize=False, deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)
