"""Fixtures shared by test modules: the policy runs of tests/policy_runs.py, made once per module using them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.policy_runs import policy_run


@pytest.fixture(scope="module")
def boot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The ``boot`` policy run (tests/policy_runs.py)."""
    return policy_run(tmp_path_factory.mktemp("boot"), "boot")


@pytest.fixture(scope="module")
def saturated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The ``saturated`` policy run (tests/policy_runs.py)."""
    return policy_run(tmp_path_factory.mktemp("saturated"), "saturated")
