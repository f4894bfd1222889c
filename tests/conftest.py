import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same NumPy random state."""
    np.random.seed(0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
