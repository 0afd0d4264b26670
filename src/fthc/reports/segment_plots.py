"""Plots of segments: each segment's typical series (medoid and quantile band), and the profile as a chart."""

from __future__ import annotations

import warnings
from pathlib import Path


from .figures import subplots
import numpy as np
import pandas as pd


def plot_typical_series(series, labels: np.ndarray, path: Path, channel: int = 0) -> None:
    """Per segment: the 10-90% band of the series' first channel over valid steps, and the medoid series."""
    segs = np.unique(labels)
    fig, axes = subplots(len(segs), 1, figsize=(9, 1.9 * len(segs)), sharex=True, squeeze=False)
    X = series.X[:, channel, :].astype(np.float64)
    M = series.mask
    for ax, s in zip(axes[:, 0], segs):
        idx = np.flatnonzero(labels == s)
        x = np.where(M[idx], X[idx], np.nan)
        with warnings.catch_warnings():  # steps no customer of the segment reaches stay blank
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanpercentile(x, 10, axis=0), np.nanpercentile(x, 90, axis=0)
        steps = np.arange(X.shape[1])
        ax.fill_between(steps, lo, hi, alpha=0.3, label="10-90% of customers")
        sub = X[idx[:500]]
        d = ((sub[:, None, :] - sub[None, :, :]) ** 2).sum(-1)
        medoid = idx[:500][d.sum(1).argmin()]
        ax.plot(steps[M[medoid]], X[medoid][M[medoid]], lw=0.8, color="k", label="medoid customer")
        ax.set_title(f"segment {s} ({len(idx):,} customers)", fontsize=9, loc="left")
        ax.set_ylabel(series.channels[channel] if series.channels else "value", fontsize=8)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel(f"step ({series.spec.representation}: "
                           f"{'period' if series.spec.representation == 'calendar' else 'transaction'} index)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


PROFILE_COLUMNS = {"median_monthly_income": "income / month", "median_monthly_spending": "spending / month",
                   "median_balance": "balance", "negative_month_share": "negative months",
                   "transactions_per_month": "transactions / month", "cash_share": "cash share",
                   "card_share": "card share", "salary_like_share": "salary-like", "pension_like_share": "pension-like",
                   "loan_default_rate": "loan default rate"}


def plot_profile(profile: pd.DataFrame, path: Path) -> None:
    """Each profile measure scaled to its largest segment value (1 = the highest segment), segments side by side."""
    cols = [c for c in PROFILE_COLUMNS if c in profile.columns]
    values = profile[cols].astype(float)
    scaled = values / values.abs().max().replace(0, 1)
    fig, ax = subplots(figsize=(10, 4))
    width = 0.8 / len(profile)
    for i, (seg, row) in enumerate(scaled.iterrows()):
        ax.bar(np.arange(len(cols)) + i * width, row.to_numpy(), width, label=f"segment {seg}")
    ax.set_xticks(np.arange(len(cols)) + 0.4 - width / 2, [PROFILE_COLUMNS[c] for c in cols], rotation=30,
                  ha="right", fontsize=8)
    ax.set_ylabel("relative to the highest segment")
    ax.set_title("segment profiles (each measure divided by its largest absolute segment value)")
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=7, ncol=min(len(profile), 6))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
