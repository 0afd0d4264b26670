"""Store backends for the contract suite: SQLite always; PostgreSQL when FTHC_TEST_POSTGRES_URL points at a server
(.ci/run starts one); MongoDB when FTHC_TEST_MONGODB_URI is set; mongomock for the single-process cases."""

from __future__ import annotations

import os
import uuid

import pytest

PG_URL = os.environ.get("FTHC_TEST_POSTGRES_URL")
MONGO_URL = os.environ.get("FTHC_TEST_MONGODB_URI")
_server = None
_pg_problem = "not installed here (.ci/run installs it: apt-get install postgresql) and FTHC_TEST_POSTGRES_URL not set"


@pytest.fixture(scope="session", autouse=True)
def postgres_server():
    """Where no server is given but PostgreSQL is installed, start one for the session."""
    global PG_URL, _server, _pg_problem
    if PG_URL is None:
        from tests.pgserver import PostgresServer

        _server = PostgresServer()
        try:
            PG_URL = _server.start()
        except Exception as exc:  # reported by the skips below
            _pg_problem = f"installed but could not be started: {exc}"
            PG_URL = None
    yield
    if _server is not None:
        _server.stop()


def _postgres_db():
    import psycopg

    name = f"fthc_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def _drop_postgres(name):
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _backend(kind, tmp_path):
    if kind == "sqlite":
        yield str(tmp_path / "fthc.db")
    elif kind == "mongomock":
        yield f"mongomock://{uuid.uuid4().hex}"  # its own in-memory server
    elif kind == "postgresql":
        if not PG_URL:
            pytest.skip(f"PostgreSQL: {_pg_problem}")
        url, name = _postgres_db()
        yield url
        _drop_postgres(name)
    else:
        if not MONGO_URL:
            pytest.skip("MongoDB: no server can be installed on these machines; set FTHC_TEST_MONGODB_URI to "
                        "test against a real one (the single-process cases run on mongomock)")
        import pymongo

        pymongo.MongoClient(MONGO_URL).drop_database("result_db")
        yield MONGO_URL
        pymongo.MongoClient(MONGO_URL).drop_database("result_db")


@pytest.fixture(params=["sqlite", "postgresql", "mongodb"])
def store_url(request, tmp_path):
    """A fresh, empty store of each backend that several processes can share."""
    yield from _backend(request.param, tmp_path)


@pytest.fixture(params=["sqlite", "postgresql", "mongodb", "mongomock"])
def any_store_url(request, tmp_path):
    """Every backend, mongomock included (single-process cases only)."""
    yield from _backend(request.param, tmp_path)
