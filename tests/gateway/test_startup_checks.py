"""A process outside dev mode refuses to start without the secrets it needs, and says which one."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from shared.devstack.processes import free_listen_port
from shared.devstack.stack import ROOT
from tests.conftest import stack_env


@pytest.mark.parametrize(("app", "emptied"), [
    ("services.gateway.main:app", "CB_INTERNAL_SECRET"),
    ("services.fulfilment.main:app", "CB_INTERNAL_SECRET"),
    ("services.orders.main:app", "CB_ENCRYPTION_KEYS"),
    ("services.auth.main:app", "CB_CLIENT_SECRET_HASH_KEY"),
])
def test_empty_secret_outside_dev_mode_stops_the_process_at_start(settings, app, emptied):
    env = {**os.environ, **stack_env(settings), "CB_ENVIRONMENT": "prod", emptied: ""}
    result = subprocess.run([sys.executable, "-m", "uvicorn", app, "--port", str(free_listen_port())],
                            env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert f"{emptied} must be set" in result.stdout + result.stderr
