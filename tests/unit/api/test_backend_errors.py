"""Which failures of the backing servers answer 409 or 503, and which stay a 500.

The outage tests provoke refused, lost and hung connections for real; the kinds that are
hard to provoke on demand (a pool timeout, a closed driver connection) are checked here.
"""

from __future__ import annotations

import pytest
import redis.exceptions as redis_exc
import sqlalchemy.exc as sa_exc

from streamsettle.api.errors import backend_error
from streamsettle.errors import RETRY_AFTER_SECONDS


def _dbapi(cls: type[sa_exc.DBAPIError], *, invalidated: bool = False) -> sa_exc.DBAPIError:
    return cls("SELECT 1", None, Exception("driver"), connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("exc", "server"),
    [
        (sa_exc.TimeoutError("QueuePool limit of size 10 overflow 20 reached"), "the database"),
        (_dbapi(sa_exc.InterfaceError), "the database"),
        (_dbapi(sa_exc.OperationalError), "the database"),
        (_dbapi(sa_exc.DBAPIError, invalidated=True), "the database"),
        (sa_exc.DisconnectionError("gone"), "the database"),
        (redis_exc.ConnectionError("refused"), "Redis"),
        (redis_exc.TimeoutError("timed out"), "Redis"),
        (ConnectionRefusedError(111, "refused"), "a backing server"),
    ],
)
def test_unreachable_servers_are_503_with_retry_after(exc: Exception, server: str) -> None:
    error = backend_error(exc)
    assert error is not None
    assert (error.status_code, error.code) == (503, "unavailable")
    assert error.details == {"server": server, "retry_after_seconds": RETRY_AFTER_SECONDS}


def test_an_integrity_violation_is_a_conflict() -> None:
    error = backend_error(_dbapi(sa_exc.IntegrityError))
    assert error is not None
    assert (error.status_code, error.code) == (409, "conflict")


@pytest.mark.parametrize(
    "exc",
    [_dbapi(sa_exc.DataError), _dbapi(sa_exc.ProgrammingError), ValueError("x")],
)
def test_other_errors_are_not_outages(exc: Exception) -> None:
    assert backend_error(exc) is None
