"""Which failures a consumer waits out and which may dead-letter an event."""

from __future__ import annotations

import asyncpg
import pytest
import sqlalchemy.exc

from shared.messaging.failures import TransientError, is_transient


def _wrapped(cause: BaseException) -> BaseException:
    """As SQLAlchemy raises it: a DBAPIError whose `orig` is the driver's error."""
    return sqlalchemy.exc.DBAPIError("SELECT 1", {}, cause)


@pytest.mark.parametrize("exc", [
    ConnectionRefusedError(111, "Connection refused"),
    FileNotFoundError(2, "No such file or directory"),  # the Unix socket of a stopped Postgres
    TimeoutError(),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    _wrapped(asyncpg.SerializationError("could not serialize access")),
    _wrapped(asyncpg.QueryCanceledError("canceling statement due to statement timeout")),
    sqlalchemy.exc.DBAPIError("SELECT 1", {}, Exception("gone"), connection_invalidated=True),
    TransientError("downstream service unavailable"),
])
def test_infrastructure_failures_are_transient(exc):
    assert is_transient(exc)


def test_a_transient_cause_makes_the_wrapping_error_transient():
    try:
        try:
            raise ConnectionResetError(104, "reset by peer")
        except ConnectionResetError as cause:
            raise RuntimeError("handler gave up") from cause
    except RuntimeError as exc:
        assert is_transient(exc)


@pytest.mark.parametrize("exc", [
    ValueError("bad quantity"),
    KeyError("order_id"),
    _wrapped(asyncpg.UniqueViolationError("duplicate key value")),
    _wrapped(asyncpg.NotNullViolationError("null value in column")),
    _wrapped(asyncpg.UndefinedTableError('relation "orders" does not exist')),
])
def test_failures_of_the_event_or_the_code_are_not_transient(exc):
    assert not is_transient(exc)
