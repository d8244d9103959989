"""Tests of the reference model; each case names what it verifies with ``@pytest.mark.verifies``."""
