"""Workers: claim a run, train and evaluate it, record the result; repeat until the grid is done.

Evaluation is fair: run i uses the same seeded customer split for every configuration; the model is fitted on
the train customers, and test metrics use the test customers' own predictions. The pretext stage (autoencoder
+ pretext loss) depends only on data, split, architecture, pretext loss, latent size, budget and seed, so it is
trained once, stored as an artefact under that key, and reused by every clustering option that shares it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import socket
import time
import traceback
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from .. import __version__
from ..config import ClustererConfig
from ..data.series import SeriesSpec
from ..progress import reporting
from .grid import Grid
from .heartbeat import Heartbeat, LeaseLost, log
from .store import Run, Store

LEASE_SECONDS = 120.0


def _stage(config: ClustererConfig, run_index: int, seed: int) -> dict[str, Any]:
    """A pretext stage: the encoder section, the run and its seed. Runs of one stage share one trained encoder
    (on one data set)."""
    return asdict(config.encoder) | {"run": run_index, "seed": seed}


def stage_of(run: Run) -> str:
    """The pretext stage a stored run needs."""
    return json.dumps(_stage(ClustererConfig.from_dict(run.config), run.run_index, run.seed), sort_keys=True)


def preferred_runs(runs: list[Run], worker: str, held: str | None, now: float) -> tuple[list, list]:
    """Run ids to claim first: those of the stage this worker holds (its encoder is in memory), then those
    of stages no other worker is on, so that two workers do not train one encoder at the same time (claims in
    run-index order alone hand consecutive runs of one stage to every worker: each trains it)."""
    def claimable(r: Run) -> bool:
        return r.status == "pending" or (r.status == "running" and (r.lease_expires or 0) < now)

    busy = {stage_of(r) for r in runs if r.status == "running" and r.worker != worker
            and (r.lease_expires or 0) >= now}
    open_runs = [(r, stage_of(r)) for r in runs if claimable(r)]
    return ([r.id for r, st in open_runs if st == held],
            [r.id for r, st in open_runs if st not in busy])


def split(ids: np.ndarray, run_index: int, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """The seeded train/test split of customers for run i, identical for every configuration."""
    rng = np.random.default_rng(10_000 + run_index)
    perm = rng.permutation(len(ids))
    n_test = int(round(test_fraction * len(ids)))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def pretext_key(config: ClustererConfig, data_fingerprint: str, run_index: int, seed: int) -> str:
    """The stage on one data set: the key of a trained encoder."""
    parts = _stage(config, run_index, seed) | {"data": data_fingerprint}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class Dataset:
    """Series of every customer, built once per worker and representation; ground truth where known. A run's
    train and test series (`split_series`) are built from its split, every scaling fitted on the train customers
    only, and kept per run index (every configuration of the grid shares them)."""

    path: Path
    spec: SeriesSpec  # the grid's
    column_mapping: dict | None = None  # as stored with the grid by init-db
    lenient: bool = False
    series: Any = None
    truth: np.ndarray | None = None
    fingerprint: str = ""
    transactions: Any = field(default=None, repr=False)
    _splits: dict = field(default_factory=dict, repr=False)

    def split_series(self, run_index: int, test_fraction: float):
        """(train, test, train_idx, test_idx) of run `run_index`: the test customers' series are built with the
        length and the global scaling fitted on the train customers, so nothing about them shapes the model."""
        if run_index not in self._splits:
            from dataclasses import replace

            from ..data import build_series

            ids = self.series.ids
            train_idx, test_idx = split(ids, run_index, test_fraction)
            train = build_series(self.transactions, self.spec, customers=ids[train_idx])
            fixed = replace(self.spec, seq_len=train.X.shape[2])
            test = build_series(self.transactions, fixed, customers=ids[test_idx], scaling=train.scaling or None)
            self._splits[run_index] = (train, test, train_idx, test_idx)
        return self._splits[run_index]

    def load(self) -> "Dataset":
        """Read and build once; later calls return at once."""
        if self.series is not None:
            return self
        from ..data import build_series, load_source
        from ..data.synth import read_ground_truth

        from ..data.transactions import ColumnMapping

        mapping = ColumnMapping.from_dict(self.column_mapping) if self.column_mapping else None
        tx = load_source(self.path, mapping, lenient=self.lenient).transactions
        self.transactions = tx
        self.series = build_series(tx, self.spec)  # all customers: their ids, truth and the data's fingerprint
        truth_file = self.path / "ground_truth.csv" if self.path.is_dir() else None
        if truth_file is not None and truth_file.exists():
            t = read_ground_truth(self.path).set_index("account_id")["segment"]
            self.truth = t.reindex(self.series.ids).to_numpy()
        h = hashlib.sha256(self.series.X.tobytes())
        h.update(json.dumps(self.series.spec.to_dict(), sort_keys=True).encode())
        self.fingerprint = h.hexdigest()[:16]
        return self


@dataclass
class FittedPretext:
    """The pretext stage a worker fitted or loaded last, with its train/test latents: runs are claimed in
    pretext order, so consecutive clustering options reuse it (one entry per worker, owned by the worker)."""

    key: str = ""
    encoder: Any = None
    latents: tuple[np.ndarray, np.ndarray] | None = None
    reused: bool = False


def fitted_pretext(config: ClustererConfig, key: str, train, test, store: Store,
                   last: FittedPretext | None) -> FittedPretext:
    """The fitted encoder for `key`: the worker's last one, the store's artefact, or trained now and stored."""
    import torch

    from ..config import make_encoder

    if last is not None and last.key == key:
        return FittedPretext(key, last.encoder, last.latents, True)
    encoder = make_encoder(config)
    blob = store.get_artefact(key)
    if blob is not None:
        encoder.from_state(torch.load(io.BytesIO(blob), weights_only=True))
    else:
        encoder.fit(train)
        buf = io.BytesIO()
        torch.save(encoder.state(), buf)
        store.put_artefact(key, buf.getvalue())
    return FittedPretext(key, encoder, (encoder.transform(train), encoder.transform(test)), blob is not None)


def execute(run: Run, data: Dataset, store: Store, test_fraction: float,
            cache: FittedPretext | None = None) -> dict[str, Any]:
    """Train and evaluate one run; returns the fields to record (and the pretext stage under `_pretext`)."""
    from ..config import make_head
    from ..estimator import head_encoder
    from ..metrics import evaluate
    from ..models.inputs import as_inputs

    t0 = time.perf_counter()
    data.load()
    config = ClustererConfig.from_dict(run.config).replace(seed=run.seed).validate()
    train_series, test_series, train_idx, test_idx = data.split_series(run.run_index, test_fraction)
    train, test = as_inputs(train_series), as_inputs(test_series)
    key = pretext_key(config, data.fingerprint, run.run_index, run.seed)
    pre = fitted_pretext(config, key, train, test, store, cache)
    pretrain_seconds = pre.encoder.fit_seconds_ if not pre.reused else 0.0
    t_head = time.perf_counter()
    z_train, z_test = pre.latents
    head = make_head(config).fit(z_train, encoder=pre.encoder, data=train)
    encoder = head_encoder(head, pre.encoder)
    if encoder is not pre.encoder:  # a head that fine-tunes the encoder embeds with its own copy
        z_train, z_test = encoder.transform(train), encoder.transform(test)
    test_labels = head.predict(z_test)
    clustering_seconds = time.perf_counter() - t_head
    metrics: dict[str, Any] = {}
    for name, part, idx, labels, z in (("train", train, train_idx, head.labels_, z_train),
                                       ("test", test, test_idx, test_labels, z_test)):
        truth = data.truth[idx] if data.truth is not None else None
        metrics[name] = evaluate(part.X.numpy().reshape(len(part), -1), z, labels, config.head.k, truth, run.seed)
    degenerate = metrics["train"]["degenerate"] or metrics["test"]["degenerate"]
    from ..models.encoders import bf16_calibration
    from ..models.precision import precision_why

    why = precision_why(pre.encoder.precision, pre.encoder.device_, bf16_calibration) \
        if hasattr(pre.encoder, "precision") else None
    metrics["runtime"] = {"precision": pre.encoder.precision_, "precision_why": why,
                          "device": str(pre.encoder.device_),
                          "threads": torch.get_num_threads()}  # how it ran: not part of the config's key
    return {"status": "invalid" if degenerate else "done", "metrics": metrics,
            "train_seconds": pretrain_seconds + clustering_seconds,
            "total_seconds": time.perf_counter() - t0, "pretext_key": key,
            "pretext_reused": pre.reused, "version": __version__, "_pretext": pre}


def parse_filter(text: str | None) -> Callable[[dict[str, Any]], bool]:
    """'autoencoder=fcnn,k=2' -> a predicate on config dicts (values compared as text)."""
    if not text:
        return lambda cfg: True
    from ..errors import FthcError

    known = set(ClustererConfig.row_fields())
    wanted = []
    for part in text.split(","):
        if "=" not in part:
            raise FthcError(f"bad filter {part!r}; expected field=value[,field=value]")
        k, v = part.split("=", 1)
        if k.strip() not in known:
            import difflib

            close = difflib.get_close_matches(k.strip(), sorted(known), n=1)
            raise FthcError(f"unknown field {k.strip()!r} in --only" + (f"; did you mean {close[0]!r}?" if close
                                                                        else f"; fields: {', '.join(sorted(known))}"))
        wanted.append((k.strip(), {x.strip() for x in v.split("|")}))
    return lambda cfg: all(str(cfg.get(k)) in v for k, v in wanted)


@dataclass
class Worker:
    """One worker process: claims, heartbeats while training, records, and on Ctrl-C releases its run."""

    store: Store
    data_path: Path
    worker_id: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}")
    lease_seconds: float = LEASE_SECONDS
    executor: Callable[..., dict[str, Any]] = execute
    on_done: Callable[[Run, dict[str, Any]], None] | None = None
    precision: str | None = None  # auto | fp32 | bf16: overrides the configs' (how a run computes, not what)
    datasets: dict[str, Dataset] = field(default_factory=dict, repr=False)  # representation -> series, loaded once
    _pretext: FittedPretext | None = field(default=None, repr=False)  # the last pretext stage, reused
    abandoned: int = 0  # runs given up because their lease was lost

    def run(self, max_runs: int | None = None, only: str | None = None) -> int:
        grid = self.store.grid() or Grid()
        test_fraction = grid.test_fraction
        keep = parse_filter(only)
        config_ids = [cid for cid, cfg, _ in self.store.configs() if keep(cfg)] if only else None
        datasets = self.datasets
        done = 0
        held = None  # the stage of the last run: its encoder is this worker's cached pretext
        while max_runs is None or done < max_runs:
            prefer = preferred_runs(self.store.runs(), self.worker_id, held, self.store.now())
            run = self.store.claim(self.worker_id, self.lease_seconds, config_ids, prefer=prefer)
            if run is None:
                break
            held = stage_of(run)
            if self.precision:
                run = dataclasses.replace(run, config={**run.config, "precision": self.precision})
            try:
                with Heartbeat(self.store, run.id, self.worker_id, self.lease_seconds) as beat, reporting(beat):
                    rep = grid.representation
                    if rep not in datasets:  # loaded on first use
                        datasets[rep] = Dataset(self.data_path, grid.series_spec(), grid.column_mapping, grid.lenient)
                    result = self.executor(run, datasets[rep], self.store, test_fraction, self._pretext)
                    status = result.pop("status")
                    self._pretext = result.pop("_pretext", None)
            except LeaseLost:  # another worker may hold the run now: record nothing, and stop claiming, since
                self.abandoned += 1  # a worker that could not reach its store would lose the next lease too
                log.warning("worker %s stops: it lost its lease on run %s", self.worker_id, run.id)
                break
            except KeyboardInterrupt:
                self.store.release(run.id, self.worker_id)
                raise
            except Exception as exc:  # a configuration that raises is recorded; the worker goes on
                status, result = "failed", {"error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}",
                                            "version": __version__}
            if not self.store.finish(run.id, self.worker_id, status, **result):
                log.warning("result of run %s discarded: the lease was lost before it was recorded", run.id)
                self.abandoned += 1
                continue
            done += 1
            if self.on_done:
                self.on_done(run, {"status": status, **result})
        return done
