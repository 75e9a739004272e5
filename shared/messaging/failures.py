"""Which failures pass by themselves (retry, never dead-letter) and which will fail the same way again.

A consumer must never dead-letter an event because the database was failing over: the event is fine, the
world around it was not. Only a failure that the event itself causes (it does not parse, does not validate,
or its handler raises the same non-transient error again and again) may send it to the DLQ.
"""

from __future__ import annotations

import asyncpg
import httpx
import sqlalchemy.exc

# SQLSTATE classes and codes that describe the server or the connection, never the statement or the data.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53")  # connection exception; insufficient resources (too many connections…)
_TRANSIENT_SQLSTATES = {
    "57P01",  # admin_shutdown
    "57P02",  # crash_shutdown
    "57P03",  # cannot_connect_now (starting up, shutting down, in recovery)
    "57014",  # query_canceled (statement timeout)
    "55P03",  # lock_not_available (lock timeout)
    "40001",  # serialization_failure
    "40P01",  # deadlock_detected
    "25006",  # read_only_sql_transaction: a replica that is being promoted
}


class TransientError(Exception):
    """Raise (or subclass) in a handler for a failure that will pass, e.g. a downstream service being down."""


def is_transient(exc: BaseException) -> bool:
    """True if `exc`, or anything in its cause/context chain, is a failure of infrastructure rather than the event."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _transient_itself(current):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def _transient_itself(exc: BaseException) -> bool:
    if isinstance(exc, TransientError | OSError | TimeoutError | asyncpg.PostgresConnectionError):
        return True  # OSError covers ConnectionRefusedError and a missing Unix socket during a restart
    if isinstance(exc, sqlalchemy.exc.TimeoutError | httpx.TransportError):  # pool exhausted; a peer unreachable
        return True
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
        return True
    sqlstate = getattr(exc, "sqlstate", None)
    return isinstance(sqlstate, str) and (sqlstate in _TRANSIENT_SQLSTATES or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES)
