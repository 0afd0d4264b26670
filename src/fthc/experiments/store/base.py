"""The store interface: one set of semantics, three backends (SQLite, PostgreSQL, MongoDB).

A run is one (configuration, run index) pair. Workers claim runs atomically, renew a lease by heartbeat
while they train, and record a result; a run whose lease expired (its worker died) can be claimed again.
"""

from __future__ import annotations

import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, TypeVar

from ...errors import FthcError

STATUSES = ("pending", "running", "done", "invalid", "failed", "skipped")
SCHEMA_VERSION = 1
T = TypeVar("T")


class StoreError(FthcError):
    """The store cannot be reached, or holds something fthc did not write."""


PREFER_LIMIT = 500  # run ids per preference tier sent to the database (the first ones in claim order)


SECRET_PARAMETER = re.compile(r"pass|pwd|secret|token|key|credential|authmechanismproperties", re.IGNORECASE)


def mask_url(url: str) -> str:
    """The URL with every secret replaced by ***: the password of user:password@host (parsed, as SQLAlchemy's
    `render_as_string(hide_password=True)` does), and the value of any query parameter that names a password,
    token, secret or key (libpq's ?password=, sslpassword, MongoDB's authMechanismProperties...)."""
    from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

    if not isinstance(url, str) or "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"(://[^/@]*?:)[^@/]*@", r"\1***@", url)
    netloc, pairs = parts.netloc, parse_qsl(parts.query, keep_blank_values=True)
    password = "@" in netloc and ":" in netloc.rsplit("@", 1)[0]
    if not password and not any(SECRET_PARAMETER.search(k) for k, _ in pairs) and not parts.fragment:
        return url  # nothing to hide: the URL as the user wrote it
    if password:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}:***@{host}"
    query = "&".join(f"{quote(k, safe='')}={'***' if SECRET_PARAMETER.search(k) else quote(v, safe='/:,')}"
                     for k, v in pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, "***" if parts.fragment else ""))


def secrets_of(url: str) -> list[str]:
    """The secret values a URL holds (its password, its secret query parameters), to take out of any text."""
    from urllib.parse import parse_qsl, unquote, urlsplit

    if not isinstance(url, str) or "://" not in url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = []
    if "@" in parts.netloc and ":" in parts.netloc.rsplit("@", 1)[0]:
        raw = parts.netloc.rsplit("@", 1)[0].split(":", 1)[1]
        found += [raw, unquote(raw)]
        found += [piece for piece in raw.split("@") if len(piece) >= 3]  # a driver that splits at the first '@'
        found += [piece for piece in unquote(raw).split("@") if len(piece) >= 3]
    found += [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if SECRET_PARAMETER.search(k) and v]
    return sorted({f for f in found if f}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """`text` with `url` masked and every secret of it replaced by ***."""
    text = text.replace(url, mask_url(url))
    for secret in secrets_of(url):
        text = text.replace(secret, "***")
    return text


@dataclass
class Run:
    id: Any
    config_id: Any
    config: dict[str, Any]
    run_index: int
    seed: int
    attempts: int = 0
    status: str = "pending"
    worker: str | None = None
    lease_expires: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    train_seconds: float | None = None
    total_seconds: float | None = None
    pretext_key: str | None = None
    pretext_reused: bool | None = None
    version: str | None = None
    started_at: float | None = None
    finished_at: float | None = None


def retry(fn: Callable[[], T], transient: tuple[type[BaseException], ...], what: str, url: str,
          tries: int = 5, base_delay: float = 0.2) -> T:
    """Retry transient connection faults with exponential backoff, then fail with the (masked) URL."""
    for attempt in range(tries):
        try:
            return fn()
        except transient as exc:
            if attempt == tries - 1:
                raise StoreError(scrub(f"{what} failed on {mask_url(url)} after {tries} tries: "
                                       f"{str(exc).splitlines()[0]}", url)) from exc
            time.sleep(base_delay * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


class Store(ABC):
    """Configurations, runs and pretext artefacts of one experiment grid."""

    url: str

    @abstractmethod
    def init_grid(self, entries: list, runs: int, grid: dict[str, Any]) -> tuple[int, int]:
        """Add the grid's configurations and their runs; returns (configs added, configs already present)."""

    @abstractmethod
    def claim(self, worker: str, lease_seconds: float, config_ids: list | None = None,
              prefer: Sequence[Sequence[Any]] = ()) -> Run | None:
        """Atomically take one pending (or lease-expired) run; None when nothing is left to claim. `prefer`:
        tiers of run ids tried in turn before any other run (each in the usual order: run index, config)."""

    @abstractmethod
    def heartbeat(self, run_id, worker: str, lease_seconds: float) -> bool:
        """Renew the lease; False if the run is no longer this worker's."""

    @abstractmethod
    def finish(self, run_id, worker: str, status: str, **fields: Any) -> bool:
        """Record the outcome (done / invalid / failed) with metrics, timings and error text."""

    @abstractmethod
    def release(self, run_id, worker: str) -> bool:
        """Put a run this worker holds back to pending (Ctrl-C)."""

    @abstractmethod
    def reset(self, statuses: set[str], config_ids: list | None = None) -> int:
        """Put finished runs with these statuses (failed, invalid, done) back to pending, their results
        cleared; returns how many. Running runs are never touched (their workers hold them)."""

    @abstractmethod
    def configs(self) -> list[tuple[Any, dict[str, Any], str | None]]:
        """(config id, config dict, skipped reason) of every configuration."""

    @abstractmethod
    def runs(self) -> list[Run]:
        """Every run with its result."""

    @abstractmethod
    def put_artefact(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def get_artefact(self, key: str) -> bytes | None: ...

    @abstractmethod
    def grid_settings(self) -> dict[str, Any] | None:
        """The grid settings stored by init_grid, as stored (JSON)."""

    def grid(self):
        """The stored grid as a `Grid` (None before init_grid)."""
        from ..grid import Grid

        settings = self.grid_settings()
        return None if settings is None else Grid.from_dict(settings, f"the grid stored in {mask_url(self.url)}")

    @abstractmethod
    def now(self) -> float:
        """The store's clock (seconds since the epoch), by which leases are judged."""

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in STATUSES}
        now = self.now()
        for r in self.runs():
            status = r.status
            if status == "running" and r.lease_expires is not None and r.lease_expires < now:
                status = "pending"  # its worker died: it will be claimed again
            out[status] += 1
        return out

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
