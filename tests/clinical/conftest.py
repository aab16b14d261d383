import pytest

from model import diagnose


@pytest.fixture(scope="module")
def posterior(shipped_model):
    """Return a function: case -> Diagnosis, on the shipped model."""

    def run(context=None, findings=None):
        return diagnose(shipped_model, {"context": context or {}, "findings": findings or {}})

    return run
