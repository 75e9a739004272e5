"""Database timeouts: a statement that runs past `CB_DB_STATEMENT_TIMEOUT_MS` is cancelled by the server, and a
call that gets no answer within `CB_DB_COMMAND_TIMEOUT_S` is abandoned by asyncpg: both fail with a clear error
instead of holding a request (and a pooled connection) for as long as the database takes."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from shared.db.engine import is_statement_timeout, service_engine


async def test_statement_past_the_timeout_is_cancelled_with_a_clear_error(settings):
    engine = service_engine(settings.model_copy(update={"db_statement_timeout_ms": 300, "db_command_timeout_s": 0}),
                            "public")
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SHOW statement_timeout")) == "300ms"
            with pytest.raises(DBAPIError) as failed:
                await conn.execute(text("SELECT pg_sleep(30)"))
        assert is_statement_timeout(failed.value)
        assert "canceling statement due to statement timeout" in str(failed.value)
        async with engine.connect() as conn:  # the pool is still usable afterwards
            assert await conn.scalar(text("SELECT 1")) == 1
    finally:
        await engine.dispose()


async def test_call_without_an_answer_is_abandoned_after_the_command_timeout(settings):
    engine = service_engine(settings.model_copy(update={"db_statement_timeout_ms": 0, "db_command_timeout_s": 0.3}),
                            "public")
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SHOW statement_timeout")) == "0"
            with pytest.raises(TimeoutError):
                await conn.execute(text("SELECT pg_sleep(30)"))
    finally:
        await engine.dispose()


def test_default_budgets_nest_statement_under_request_under_gateway():
    from shared.settings import Settings

    defaults = Settings()
    assert 0 < defaults.db_statement_timeout_ms / 1000 < defaults.interactive_deadline_s < defaults.upstream_timeout_s
    assert defaults.db_statement_timeout_ms / 1000 < defaults.db_command_timeout_s


async def test_request_whose_statement_times_out_answers_503_problem(settings):
    from fastapi import FastAPI

    from shared.web.problems import install_problem_handlers

    engine = service_engine(settings.model_copy(update={"db_statement_timeout_ms": 200}), "public")
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/slow")
    async def slow() -> dict:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_sleep(30)"))
        return {}

    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as http:
            response = await http.get("/slow")
    finally:
        await engine.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/database-timeout")
    assert response.headers["retry-after"] == "1"
