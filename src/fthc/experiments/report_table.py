"""Tables of a store's results: status counts with ETA, failures, and the export (one row per config)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from .store import Store

CONFIG_COLUMNS = ["autoencoder", "pretext", "embedding", "clustering", "distance", "reduction", "k", "latent_dim",
                  "reduced_dim", "pretrain_batches", "dtc_batches"]
RUN_METRICS = [("train", "input_silhouette", "sc_train"), ("train", "input_davies_bouldin", "dbi_train"),
               ("test", "input_silhouette", "sc_test"), ("test", "input_davies_bouldin", "dbi_test"),
               ("train", "latent_silhouette", "latent_sc_train"), ("test", "latent_silhouette", "latent_sc_test"),
               ("test", "ari", "ari_test")]


def status_summary(store: Store, workers: int = 1) -> dict:
    runs = store.runs()
    counts = store.counts()
    finished = [r.total_seconds for r in runs if r.status in ("done", "invalid") and r.total_seconds]
    remaining = counts["pending"] + counts["running"]
    eta = (np.mean(finished) * remaining / max(workers, 1)) if finished else None
    failures = [(r.config, r.run_index, (r.error or "").strip().splitlines()[0] if r.error else "")
                for r in runs if r.status == "failed"]
    total = sum(counts.values())
    now = store.now()
    leases = [r.lease_expires - now for r in runs if r.status == "running" and r.lease_expires is not None]
    return {"counts": counts, "leased": sum(1 for s in leases if s >= 0),
            "lease_ends_in": max((s for s in leases if s >= 0), default=None),  # seconds, by the store's clock
            "expired_leases": sum(1 for s in leases if s < 0), "total": total, "eta_seconds": eta, "failures": failures,
            # skipped runs never run: completeness counts the runs that can
            "complete": (counts["done"] + counts["invalid"] + counts["failed"]) / max(total - counts["skipped"], 1),
            "mean_run_seconds": float(np.mean(finished)) if finished else None,
            "pretext_reused": sum(1 for r in runs if r.pretext_reused), "at": time.time()}


def export_frame(store: Store) -> pd.DataFrame:
    """One row per configuration, with each run's metrics in columns (like the reference results.csv)."""
    rows: dict = {}
    for r in store.runs():
        row = rows.setdefault(r.config_id, {"config_id": r.config_id,
                                            **{c: r.config.get(c) for c in CONFIG_COLUMNS}})
        i = r.run_index
        row[f"status_{i}"] = r.status
        row[f"seed_{i}"] = r.seed
        for part, metric, col in RUN_METRICS:
            row[f"{col}_{i}"] = (r.metrics.get(part) or {}).get(metric)
        row[f"train_seconds_{i}"] = r.train_seconds
        row[f"pretext_reused_{i}"] = r.pretext_reused
    df = pd.DataFrame(list(rows.values()))
    for _, _, col in RUN_METRICS:
        cols = [c for c in df.columns if c.startswith(col + "_") and c[len(col) + 1:].isdigit()]
        if cols:
            df[f"{col}_mean"] = df[cols].apply(pd.to_numeric, errors="coerce").mean(axis=1)
    return df
