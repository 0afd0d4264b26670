"""Plots of segments: each segment's typical series (medoid and quantile band), and the profile as a chart."""

from __future__ import annotations

import warnings
from pathlib import Path


from .figures import subplots
import numpy as np
import pandas as pd


def separating_channels(series, labels: np.ndarray, at_least: float = 0.05, most: int = 4) -> list[int]:
    """Channels whose per-customer mean differs between segments: the share of its variance explained by the
    segments (eta squared) is at least `at_least`; the best ones first, and always at least one."""
    X, M = series.X.astype(np.float64), series.mask[:, None, :]
    means = np.where(M, X, 0).sum(-1) / np.maximum(M.sum(-1), 1)  # [n, channels]
    total = means.var(0) * len(means)
    between = np.zeros(means.shape[1])
    for s in np.unique(labels):
        part = means[labels == s]
        between += len(part) * (part.mean(0) - means.mean(0)) ** 2
    eta = np.where(total > 0, between / np.where(total > 0, total, 1), 0.0)
    order = [int(c) for c in np.argsort(-eta)]
    return [c for c in order if eta[c] >= at_least][:most] or order[:1]


def plot_typical_series(series, labels: np.ndarray, path: Path, channels: list[int] | None = None) -> None:
    """Per segment (rows) and per channel that separates the segments (columns): the 10-90% band of the
    customers' series over valid steps, and the medoid customer's series."""
    segs = np.unique(labels)
    channels = channels if channels is not None else separating_channels(series, labels)
    fig, axes = subplots(len(segs), len(channels), figsize=(4.6 * len(channels), 1.9 * len(segs)), sharex=True,
                         squeeze=False)
    M = series.mask
    steps = np.arange(series.X.shape[2])
    for col, channel in enumerate(channels):
        X = series.X[:, channel, :].astype(np.float64)
        name = series.channels[channel] if series.channels else f"channel {channel}"
        for row, s in enumerate(segs):
            ax = axes[row, col]
            idx = np.flatnonzero(labels == s)
            x = np.where(M[idx], X[idx], np.nan)
            with warnings.catch_warnings():  # steps no customer of the segment reaches stay blank
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = np.nanpercentile(x, 10, axis=0), np.nanpercentile(x, 90, axis=0)
            ax.fill_between(steps, lo, hi, alpha=0.3, label="10-90% of customers")
            sub = X[idx[:500]]
            d = ((sub[:, None, :] - sub[None, :, :]) ** 2).sum(-1)
            medoid = idx[:500][d.sum(1).argmin()]
            ax.plot(steps[M[medoid]], X[medoid][M[medoid]], lw=0.8, color="k", label="medoid customer")
            ax.set_title(f"segment {s} ({len(idx):,} customers): {name}", fontsize=8, loc="left")
            if col == 0:
                ax.set_ylabel("scaled value", fontsize=7)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    for ax in axes[-1]:
        ax.set_xlabel(f"step ({series.spec.representation}: "
                      f"{'period' if series.spec.representation == 'calendar' else 'transaction'} index)", fontsize=8)
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
