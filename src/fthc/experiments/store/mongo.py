"""MongoDB, with the seed project's layout: database `result_db`, a `config` collection with a unique index on
the configuration, a `result` collection of runs (plus `artefacts` for pretext weights and `meta`).

Credentials come from the URL or from MONGO_USERNAME / MONGO_PASSWORD (environment or a `.env` file).
Claims use find_one_and_update, which is atomic per document.
"""

from __future__ import annotations

import os
import time
from datetime import timezone
from typing import Any, Sequence
from urllib.parse import quote_plus

from ... import __version__
from .base import PREFER_LIMIT, SCHEMA_VERSION, Run, Store, StoreError, mask_url, retry, scrub

DB_NAME = "result_db"
_MOCK_SERVERS: dict = {}  # mongomock://name -> one in-memory server per name for this process (tests)


def _with_credentials(url: str) -> str:
    if "@" in url.split("://", 1)[1].split("/", 1)[0]:
        return url
    user, password = os.environ.get("MONGO_USERNAME"), os.environ.get("MONGO_PASSWORD")
    if user and password:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{quote_plus(user)}:{quote_plus(password)}@{rest}"
    return url


class MongoStore(Store):
    def __init__(self, url: str, client=None):
        import pymongo
        from pymongo.errors import ConnectionFailure, PyMongoError

        self.url = url
        self._errors = (ConnectionFailure,)
        self._pymongo = pymongo
        if client is None:
            if url.startswith("mongomock://"):
                import mongomock

                client = _MOCK_SERVERS.setdefault(url, mongomock.MongoClient())
            else:
                client = pymongo.MongoClient(_with_credentials(url), serverSelectionTimeoutMS=5000)
        self.client = client
        self.db = client[DB_NAME]
        try:
            retry(self._prepare, self._errors, "connecting to the store", url)
        except PyMongoError as exc:
            raise StoreError(scrub(f"store {mask_url(url)}: {str(exc).splitlines()[0]}", url)) from exc

    def _prepare(self) -> None:
        meta = self.db["meta"].find_one({"_id": "fthc"})
        if meta is None:
            if self.db["result"].estimated_document_count() or self.db["config"].estimated_document_count():
                raise StoreError(f"{mask_url(self.url)} database {DB_NAME} holds collections fthc did not write")
            self.db["meta"].update_one({"_id": "fthc"}, {"$setOnInsert": {
                "app": "fthc", "schema_version": SCHEMA_VERSION, "created_by": __version__}}, upsert=True)
        elif meta.get("schema_version") != SCHEMA_VERSION:
            raise StoreError(f"{mask_url(self.url)} has store schema {meta.get('schema_version')}; this fthc "
                             f"{__version__} uses schema {SCHEMA_VERSION}")
        self.db["config"].create_index("key", unique=True)
        self.db["result"].create_index([("config_id", 1), ("run_index", 1)], unique=True)
        self.db["result"].create_index([("status", 1), ("run_index", 1), ("config_id", 1)])

    def _call(self, fn, what: str):
        from pymongo.errors import PyMongoError

        try:
            return retry(fn, self._errors, what, self.url)
        except PyMongoError as exc:
            raise StoreError(scrub(f"{what} failed on {mask_url(self.url)}: {str(exc).splitlines()[0]}",
                                   self.url)) from exc

    def init_grid(self, entries: list, runs: int, grid: dict[str, Any]) -> tuple[int, int]:
        from pymongo.errors import DuplicateKeyError

        from ..grid import run_seed

        def go():
            added = 0
            now = time.time()
            next_id = (self.db["config"].find_one(sort=[("_id", -1)]) or {"_id": 0})["_id"] + 1
            for entry in entries:
                key = entry.config.key()
                try:
                    self.db["config"].insert_one({"_id": next_id, "key": key, "config": entry.config.to_dict(),
                                                  "skipped": entry.skipped, "created_at": now})
                except DuplicateKeyError:
                    continue
                docs = [{"_id": f"{next_id}:{i}", "config_id": next_id, "run_index": i,
                         "seed": run_seed(entry.config, i), "status": "skipped" if entry.skipped else "pending",
                         "attempts": 0, "error": entry.skipped} for i in range(runs)]
                self.db["result"].insert_many(docs)
                next_id += 1
                added += 1
            self.db["meta"].update_one({"_id": "grid"}, {"$setOnInsert": {"grid": grid}}, upsert=True)
            return added, len(entries) - added

        return self._call(go, "writing the grid")

    def grid_settings(self):
        doc = self._call(lambda: self.db["meta"].find_one({"_id": "grid"}), "reading the grid")
        return doc["grid"] if doc else None

    def now(self) -> float:
        """The server's clock (mongomock's server is this process, so its clock is ours)."""
        if self.url.startswith("mongomock://"):
            return time.time()
        local = self._call(lambda: self.db.command("hello")["localTime"], "reading the server's clock")
        return local.replace(tzinfo=timezone.utc).timestamp()

    def claim(self, worker: str, lease_seconds: float, config_ids: list | None = None,
              prefer: Sequence[Sequence[Any]] = ()) -> Run | None:
        def go():
            now = self.now()
            query: dict[str, Any] = {"$or": [{"status": "pending"},
                                             {"status": "running", "lease_expires": {"$lt": now}}]}
            if config_ids is not None:
                query["config_id"] = {"$in": list(config_ids)}
            update = {"$set": {"status": "running", "worker": worker, "lease_expires": now + lease_seconds,
                               "started_at": now, "error": None}, "$inc": {"attempts": 1}}
            doc = None
            for tier in [*(list(t)[:PREFER_LIMIT] for t in prefer if len(t)), None]:
                doc = self.db["result"].find_one_and_update(
                    query if tier is None else {**query, "_id": {"$in": tier}}, update,
                    sort=[("run_index", 1), ("config_id", 1)], return_document=self._pymongo.ReturnDocument.AFTER)
                if doc is not None:
                    break
            return None if doc is None else self._run(doc)

        return self._call(go, "claiming a run")

    def _owned(self, run_id, worker):
        return {"_id": run_id, "worker": worker, "status": "running"}

    def heartbeat(self, run_id, worker: str, lease_seconds: float) -> bool:
        return self._call(lambda: self.db["result"].update_one(self._owned(run_id, worker), {
            "$set": {"lease_expires": self.now() + lease_seconds}}).modified_count == 1, "renewing a lease")

    def finish(self, run_id, worker: str, status: str, **fields: Any) -> bool:
        return self._call(lambda: self.db["result"].update_one(self._owned(run_id, worker), {"$set": {
            "status": status, "lease_expires": None, "finished_at": time.time(), **fields}}).modified_count == 1,
            "recording a result")

    def release(self, run_id, worker: str) -> bool:
        return self._call(lambda: self.db["result"].update_one(self._owned(run_id, worker), {"$set": {
            "status": "pending", "worker": None, "lease_expires": None}}).modified_count == 1, "releasing a run")

    def reset(self, statuses, config_ids=None) -> int:
        query: dict = {"status": {"$in": sorted(set(statuses) - {"running", "pending"})}}
        if config_ids is not None:
            query["config_id"] = {"$in": list(config_ids)}
        return self._call(lambda: self.db["result"].update_many(query, {"$set": {
            "status": "pending", "worker": None, "lease_expires": None, "metrics": None, "error": None,
            "train_seconds": None, "total_seconds": None, "started_at": None, "finished_at": None}}).modified_count,
            "resetting runs")

    def configs(self):
        docs = self._call(lambda: list(self.db["config"].find(sort=[("_id", 1)])), "reading configurations")
        return [(d["_id"], d["config"], d.get("skipped")) for d in docs]

    def runs(self) -> list[Run]:
        configs = {cid: cfg for cid, cfg, _ in self.configs()}
        docs = self._call(lambda: list(self.db["result"].find(sort=[("config_id", 1), ("run_index", 1)])),
                          "reading runs")
        return [self._run(d, configs.get(d["config_id"])) for d in docs]

    def _run(self, d, config=None) -> Run:
        if config is None:
            config = self.db["config"].find_one({"_id": d["config_id"]})["config"]
        return Run(id=d["_id"], config_id=d["config_id"], config=config, run_index=d["run_index"], seed=d["seed"],
                   attempts=d.get("attempts", 0), status=d["status"], worker=d.get("worker"),
                   lease_expires=d.get("lease_expires"), metrics=d.get("metrics") or {}, error=d.get("error"),
                   train_seconds=d.get("train_seconds"), total_seconds=d.get("total_seconds"),
                   pretext_key=d.get("pretext_key"), pretext_reused=d.get("pretext_reused"),
                   version=d.get("version"), started_at=d.get("started_at"), finished_at=d.get("finished_at"))

    def put_artefact(self, key: str, data: bytes) -> None:
        self._call(lambda: self.db["artefacts"].update_one(
            {"_id": key}, {"$setOnInsert": {"data": data, "created_at": time.time()}}, upsert=True),
            "storing an artefact")

    def get_artefact(self, key: str) -> bytes | None:
        doc = self._call(lambda: self.db["artefacts"].find_one({"_id": key}), "reading an artefact")
        return None if doc is None else bytes(doc["data"])

    def close(self) -> None:
        if not self.url.startswith("mongomock://"):
            self.client.close()
