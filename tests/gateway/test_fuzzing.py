"""Schemathesis against the running gateway: whatever it sends, no server error, and answers as documented.

Runs as an admin client of its own holding every scope, so every operation is reachable (a tenant's
token leaves the admin operations at 403). Checks: all but `positive_data_acceptance`, see
docs/security.md. The stateful phase is off: it chains operations through links the document does
not declare, and on this shared session stack it could disable other tests' clients.
"""

from __future__ import annotations

import subprocess
import sys

from tests.api_client import admin_token, bearer, token_for

EVERY_SCOPE = ["admin", "connections:read", "connections:write", "orders:read", "orders:write", "listings:read",
               "listings:write", "fulfilment:write"]


def run_schemathesis(base_url: str, token: str, report_dir) -> subprocess.CompletedProcess:
    args = [sys.executable, "-m", "schemathesis.cli", "run", f"{base_url}/openapi.json",
            "--checks", "all", "--exclude-checks", "positive_data_acceptance",
            "--header", f"Authorization: Bearer {token}",
            "--phases", "examples,coverage,fuzzing", "--max-examples", "15", "--seed", "8",
            "--rate-limit", "25/s", "--workers", "2", "--request-timeout", "20",
            "--report", "junit", "--report-dir", str(report_dir), "--no-color"]
    # cwd: schemathesis keeps a cache directory where it runs; not in the repository.
    return subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=report_dir)


async def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(gateway, stack, tmp_path):
    created = await gateway.post("/v1/clients", headers=bearer(await admin_token(gateway)),
                                 json={"name": "schemathesis", "merchant_id": None, "scopes": EVERY_SCOPE})
    assert created.status_code == 201, created.text
    token = await token_for(gateway, created.json()["client_id"], created.json()["client_secret"])

    result = run_schemathesis(stack.url("gateway"), token, tmp_path)

    assert result.returncode == 0, result.stdout[-15000:] + result.stderr[-3000:]
