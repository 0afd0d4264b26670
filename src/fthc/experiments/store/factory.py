"""Open a store by URL; each backend is imported only when its URL is used."""

from __future__ import annotations

from pathlib import Path

from .base import Store, StoreError, mask_url


def check_userinfo(url: str) -> None:
    """A password holding an unencoded '@' is read differently by each driver (libpq takes the first '@' as the
    end of the password and the rest as the host, then prints that host in its errors): refused before any
    connection, with how to write it."""
    if "://" not in url:
        return
    rest = url.split("://", 1)[1].split("/", 1)[0]
    if rest.count("@") > 1:
        raise StoreError(f"the store URL {mask_url(url)} has more than one '@' before its host: a password (or user) "
                         "holding '@' must write it as %40 (e.g. postgresql://user:pa%40ss@host/db)")


def open_store(url: str | None = None, create: bool = True, readonly: bool = False) -> Store:
    """`fthc.db` by default; a path or sqlite:///path, postgresql://..., or mongodb://...

    With `create=False` (what `fthc run`, `status`, `export` and `report` use), a SQLite file that does not
    exist is an error: a typo in `--store` must not answer from a new, empty store. `readonly` (status, export,
    report): a SQLite store another process is writing is read beside it, or reported locked within seconds."""
    url = url or "fthc.db"
    check_userinfo(url)
    if url.startswith(("postgresql", "postgres://", "sqlite:")) or "://" not in url:
        from .sql import SQLStore, sqlite_path

        path = sqlite_path(url)
        if path is not None and not create and not path.exists():
            hint = " (the quickstart's store is fthc-quick.db: --store fthc-quick.db)" \
                if url == "fthc.db" and Path("fthc-quick.db").exists() else ""
            raise StoreError(f"no store at {path}{hint}: create one with `fthc init-db --store {url}` (or check "
                             "the path)")

        return SQLStore(url, readonly=readonly)
    if url.startswith(("mongodb://", "mongodb+srv://", "mongomock://")):
        from .mongo import MongoStore

        return MongoStore(url)
    raise StoreError(f"unsupported store URL {mask_url(url)}; use a file path, sqlite:///..., "
                     "postgresql://... or mongodb://...")
