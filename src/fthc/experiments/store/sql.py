"""SQLite and PostgreSQL through SQLAlchemy Core: same tables, same semantics.

Claims are atomic: PostgreSQL locks the chosen row with FOR UPDATE SKIP LOCKED, SQLite takes the write lock
up front (BEGIN IMMEDIATE) so that two workers never read the same pending run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError

from ... import __version__
from .base import PREFER_LIMIT, SCHEMA_VERSION, Run, Store, StoreError, mask_url, retry, scrub

metadata = sa.MetaData()
META = sa.Table("fthc_meta", metadata, sa.Column("key", sa.String(64), primary_key=True),
                sa.Column("value", sa.Text, nullable=False))
CONFIGS = sa.Table(
    "fthc_configs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.Text, nullable=False, unique=True),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("skipped", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
)
RUNS = sa.Table(
    "fthc_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("config_id", sa.Integer, sa.ForeignKey("fthc_configs.id"), nullable=False),
    sa.Column("run_index", sa.Integer, nullable=False),
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("worker", sa.String(200)),
    sa.Column("lease_expires", sa.Float),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("metrics", sa.Text),
    sa.Column("train_seconds", sa.Float),
    sa.Column("total_seconds", sa.Float),
    sa.Column("error", sa.Text),
    sa.Column("version", sa.String(32)),
    sa.Column("pretext_key", sa.String(64)),
    sa.Column("pretext_reused", sa.Boolean),
    sa.Column("started_at", sa.Float),
    sa.Column("finished_at", sa.Float),
    sa.UniqueConstraint("config_id", "run_index"),
)
ARTEFACTS = sa.Table("fthc_artefacts", metadata, sa.Column("key", sa.String(64), primary_key=True),
                     sa.Column("data", sa.LargeBinary, nullable=False), sa.Column("created_at", sa.Float))
TRANSIENT = (OperationalError,)


def db_clock(sqlite: bool):
    """The database's clock in seconds since the epoch, as an SQL expression: leases are judged by one clock,
    not by each worker's, so a machine whose clock runs ahead cannot take live runs."""
    if sqlite:
        return sa.literal_column("((julianday('now') - 2440587.5) * 86400.0)", sa.Float)
    return sa.func.extract("epoch", sa.func.clock_timestamp())


def _engine_url(url: str) -> str:
    if "://" not in url:  # a plain path
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite store URL (None for other databases and in-memory SQLite)."""
    engine_url = _engine_url(url)
    if not engine_url.startswith("sqlite:///") or engine_url in ("sqlite:///", "sqlite:///:memory:"):
        return None
    return Path(engine_url[len("sqlite:///"):])


LOCKED_SECONDS = 5  # how long a command that only reads waits for a SQLite store another process is writing


class SQLStore(Store):
    def __init__(self, url: str, readonly: bool = False):
        """`readonly` (status, export, report): transactions that only read, which a writer in WAL mode does not
        block; a store locked all the same is reported within seconds rather than waited on."""
        self.url = url
        self.readonly = readonly
        self.sqlite = _engine_url(url).startswith("sqlite")
        try:
            if self.sqlite:
                wait = LOCKED_SECONDS if readonly else 60
                self.engine = sa.create_engine(_engine_url(url), connect_args={"timeout": wait})

                @event.listens_for(self.engine, "connect")
                def _connect(dbapi_conn, _):
                    dbapi_conn.isolation_level = None  # let BEGIN below manage transactions
                    dbapi_conn.execute(f"PRAGMA busy_timeout = {wait * 1000}")
                    if not readonly:
                        dbapi_conn.execute("PRAGMA journal_mode = WAL")

                @event.listens_for(self.engine, "begin")
                def _begin(conn):
                    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
            else:
                self.engine = sa.create_engine(_engine_url(url), pool_pre_ping=True)
        except (sa.exc.ArgumentError, ImportError, ValueError) as exc:  # ValueError: e.g. a port that is no number
            raise StoreError(scrub(f"invalid store URL {mask_url(url)}: {exc}", url)) from exc
        try:
            retry(self._prepare, (OperationalError, DBAPIError), "connecting to the store", url,
                  tries=1 if readonly and self.sqlite else 5)
        except StoreError as exc:
            if "locked" in str(exc):
                raise StoreError(f"the store {mask_url(url)} is locked by another process (a write in progress) and "
                                 f"stayed locked for {LOCKED_SECONDS} s: try again when it is done") from None
            raise
        self.clock = db_clock(self.sqlite)

    def _prepare(self) -> None:
        with self.engine.begin() as conn:
            names = set(sa.inspect(conn).get_table_names())
            ours = {t.name for t in metadata.sorted_tables}
            if names & ours and "fthc_meta" not in names:
                raise StoreError(f"{mask_url(self.url)} holds fthc-like tables without fthc's metadata: "
                                 "written by another program?")
            if "fthc_meta" in names:
                meta = dict(conn.execute(sa.select(META.c.key, META.c.value)).all())
                if meta.get("app") != "fthc":
                    raise StoreError(f"{mask_url(self.url)} was written by another program ({meta.get('app')!r})")
                if int(meta.get("schema_version", -1)) != SCHEMA_VERSION:
                    raise StoreError(f"{mask_url(self.url)} has store schema {meta.get('schema_version')}; this "
                                     f"fthc {__version__} uses schema {SCHEMA_VERSION}")
                return
            if self.readonly:
                raise StoreError(f"{mask_url(self.url)} holds no fthc grid: create one with `fthc init-db`")
            metadata.create_all(conn)
            conn.execute(META.insert(), [{"key": "app", "value": "fthc"},
                                         {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                                         {"key": "created_by", "value": __version__}])

    def _tx(self, fn, what: str):
        def go():
            with self.engine.begin() as conn:
                return fn(conn)

        try:
            return retry(go, TRANSIENT, what, self.url, tries=1 if self.readonly and self.sqlite else 5)
        except sa.exc.DatabaseError as exc:
            raise StoreError(scrub(f"{what} failed on {mask_url(self.url)}: {str(exc).splitlines()[0]}",
                                   self.url)) from exc

    # -- writing the grid ------------------------------------------------------------------------------
    def init_grid(self, entries: list, runs: int, grid: dict[str, Any]) -> tuple[int, int]:
        from ..grid import run_seed

        def go(conn):
            existing = dict(conn.execute(sa.select(CONFIGS.c.key, CONFIGS.c.id)).all())
            added = 0
            now = time.time()
            for entry in entries:
                key = entry.config.key()
                if key in existing:
                    continue
                cid = conn.execute(CONFIGS.insert().values(
                    key=key, config=json.dumps(entry.config.to_dict()), skipped=entry.skipped,
                    created_at=now)).inserted_primary_key[0]
                conn.execute(RUNS.insert(), [{
                    "config_id": cid, "run_index": i, "seed": run_seed(entry.config, i),
                    "status": "skipped" if entry.skipped else "pending", "attempts": 0,
                    "error": entry.skipped} for i in range(runs)])
                added += 1
            stored = conn.execute(sa.select(META.c.value).where(META.c.key == "grid")).scalar()
            if stored is None:
                conn.execute(META.insert().values(key="grid", value=json.dumps(grid)))
            return added, len(entries) - added

        return self._tx(go, "writing the grid")

    def grid_settings(self) -> dict[str, Any] | None:
        value = self._tx(lambda c: c.execute(sa.select(META.c.value).where(META.c.key == "grid")).scalar(),
                         "reading the grid")
        return json.loads(value) if value else None

    # -- claiming and recording ------------------------------------------------------------------------
    def now(self) -> float:
        return float(self._tx(lambda c: c.execute(sa.select(self.clock)).scalar(), "reading the database clock"))

    def claim(self, worker: str, lease_seconds: float, config_ids: list | None = None,
              prefer: Sequence[Sequence[Any]] = ()) -> Run | None:
        def go(conn):
            now = time.time()
            claimable = sa.or_(RUNS.c.status == "pending",
                               sa.and_(RUNS.c.status == "running", RUNS.c.lease_expires < self.clock))
            base = sa.select(RUNS.c.id).where(claimable).order_by(RUNS.c.run_index, RUNS.c.config_id).limit(1)
            if config_ids is not None:
                base = base.where(RUNS.c.config_id.in_(config_ids))
            if not self.sqlite:
                base = base.with_for_update(skip_locked=True)
            run_id = None
            for tier in [*(list(t)[:PREFER_LIMIT] for t in prefer if len(t)), None]:
                run_id = conn.execute(base if tier is None else base.where(RUNS.c.id.in_(tier))).scalar()
                if run_id is not None:
                    break
            if run_id is None:
                return None
            conn.execute(RUNS.update().where(RUNS.c.id == run_id).values(
                status="running", worker=worker, lease_expires=self.clock + lease_seconds,
                attempts=RUNS.c.attempts + 1,
                started_at=now, error=None))
            row = conn.execute(sa.select(RUNS, CONFIGS.c.config).join(CONFIGS).where(RUNS.c.id == run_id)).one()
            return _run(row)

        return self._tx(go, "claiming a run")

    def _owned(self, run_id, worker):
        return sa.and_(RUNS.c.id == run_id, RUNS.c.worker == worker, RUNS.c.status == "running")

    def heartbeat(self, run_id, worker: str, lease_seconds: float) -> bool:
        return self._tx(lambda c: c.execute(RUNS.update().where(self._owned(run_id, worker)).values(
            lease_expires=self.clock + lease_seconds)).rowcount == 1, "renewing a lease")

    def finish(self, run_id, worker: str, status: str, **fields: Any) -> bool:
        values = {k: v for k, v in fields.items() if k in RUNS.c}
        if "metrics" in values:
            values["metrics"] = json.dumps(values["metrics"])
        return self._tx(lambda c: c.execute(RUNS.update().where(self._owned(run_id, worker)).values(
            status=status, lease_expires=None, finished_at=time.time(), **values)).rowcount == 1,
            "recording a result")

    def release(self, run_id, worker: str) -> bool:
        return self._tx(lambda c: c.execute(RUNS.update().where(self._owned(run_id, worker)).values(
            status="pending", worker=None, lease_expires=None)).rowcount == 1, "releasing a run")

    def reset(self, statuses, config_ids=None) -> int:
        statuses = set(statuses) - {"running", "pending"}
        where = RUNS.c.status.in_(sorted(statuses))
        if config_ids is not None:
            where = where & RUNS.c.config_id.in_(list(config_ids))
        return self._tx(lambda c: c.execute(RUNS.update().where(where).values(
            status="pending", worker=None, lease_expires=None, metrics=None, error=None, train_seconds=None,
            total_seconds=None, started_at=None, finished_at=None)).rowcount, "resetting runs")

    # -- reading ---------------------------------------------------------------------------------------
    def configs(self):
        rows = self._tx(lambda c: c.execute(sa.select(CONFIGS.c.id, CONFIGS.c.config, CONFIGS.c.skipped)
                                            .order_by(CONFIGS.c.id)).all(), "reading configurations")
        return [(r.id, json.loads(r.config), r.skipped) for r in rows]

    def runs(self) -> list[Run]:
        rows = self._tx(lambda c: c.execute(sa.select(RUNS, CONFIGS.c.config).join(CONFIGS)
                                            .order_by(RUNS.c.config_id, RUNS.c.run_index)).all(), "reading runs")
        return [_run(r) for r in rows]

    def put_artefact(self, key: str, data: bytes) -> None:
        def go(conn):
            if conn.execute(sa.select(ARTEFACTS.c.key).where(ARTEFACTS.c.key == key)).scalar() is None:
                conn.execute(ARTEFACTS.insert().values(key=key, data=data, created_at=time.time()))

        try:
            self._tx(go, "storing an artefact")
        except StoreError:
            if self.get_artefact(key) is None:  # a concurrent insert of the same key is fine
                raise

    def get_artefact(self, key: str) -> bytes | None:
        return self._tx(lambda c: c.execute(sa.select(ARTEFACTS.c.data).where(ARTEFACTS.c.key == key)).scalar(),
                        "reading an artefact")

    def close(self) -> None:
        self.engine.dispose()


def _run(row) -> Run:
    m = row._mapping
    return Run(id=m["id"], config_id=m["config_id"], config=json.loads(m["config"]), run_index=m["run_index"],
               seed=m["seed"], attempts=m["attempts"], status=m["status"], worker=m["worker"],
               lease_expires=m["lease_expires"], metrics=json.loads(m["metrics"]) if m["metrics"] else {},
               error=m["error"], train_seconds=m["train_seconds"], total_seconds=m["total_seconds"],
               pretext_key=m["pretext_key"], pretext_reused=m["pretext_reused"], version=m["version"],
               started_at=m["started_at"], finished_at=m["finished_at"])
