"""The segment page's charts, drawn with matplotlib as inline SVG: vector graphics that need no script and nothing
from the web, stay sharp on a laptop screen and print as they are (a Vega-Lite or Plotly page would carry
megabytes of JavaScript to draw the same few charts). One colour per segment, the same in every chart."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from .figures import subplots

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf", "#393b79", "#637939"]


def colour(segment: int) -> str:
    return PALETTE[int(segment) % len(PALETTE)]


def svg(fig) -> str:
    """The figure as an <svg> element (no XML header)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _money(ax, axis: str = "y") -> None:
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v / 1e6:,.1f}M" if abs(v) >= 1e6 else f"{v / 1e3:,.0f}k" if abs(v) >= 1e3
                        else f"{v:,.0f}")
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(fmt)


def k_choice_chart(table: pd.DataFrame, chosen: int, threshold: float) -> str:
    """Prediction strength per k with its spread over the splits, what the same k scores on a population without
    structure (where measured), the threshold, and the chosen k."""
    fig, ax = subplots(figsize=(6.2, 2.8))
    k = table.index.to_numpy()
    m, sd = table["prediction_strength"].to_numpy(), table["prediction_strength_sd"].to_numpy()
    ax.fill_between(k, np.clip(m - sd, 0, 1), np.clip(m + sd, 0, 1), color="#9ecae1", alpha=0.6,
                    label="± 1 sd over splits")
    ax.plot(k, m, "o-", color="#08519c", label="prediction strength")
    if "reference_strength" in table and table["reference_strength"].iloc[1:].notna().any():
        ref = table["reference_strength"].to_numpy(dtype=float)
        ax.plot(k, ref, "x", color="#737373", ms=6, label="same k, one population without structure")
    ax.axhline(threshold, color="#a50f15", ls="--", lw=1, label=f"reproduces at {threshold}")
    ax.axvline(chosen, color="#444", lw=1, ls=":")
    ax.annotate(f"chosen k = {chosen}", (chosen, 0.05), xytext=(4, 0), textcoords="offset points", fontsize=8)
    ax.set_xticks(k)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("k (number of segments)")
    ax.set_ylabel("prediction strength")
    ax.legend(fontsize=7, loc="lower left")
    return svg(fig)


def segment_label(segment, name: str, width: int = 24) -> str:
    """A segment's axis label: its number and name, on two lines at most (cut with an ellipsis beyond)."""
    import textwrap

    lines = textwrap.wrap(f"{segment}: {name}", width) or [str(segment)]
    return "\n".join(lines[:1] + [textwrap.shorten(" ".join(lines[1:]), width, placeholder="…")] if len(lines) > 1
                     else lines)


def distributions_chart(measures: pd.DataFrame, labels: pd.Series, columns: dict[str, str],
                        money: set[str], names: dict) -> str:
    """Box plots (quartiles, whiskers at the 5th and 95th percentiles) of a few measures per segment, two panels
    a row (the segments' names on the left one), so that the chart keeps its labels readable on a narrow page."""
    segs = sorted(labels.unique())
    ncols = min(2, len(columns))
    nrows = -(-len(columns) // ncols)
    fig, axes = subplots(nrows, ncols, figsize=(3.4 * ncols, (0.42 * len(segs) + 1.2) * nrows), squeeze=False)
    for ax in axes.flat[len(columns):]:
        ax.set_visible(False)
    for i, (ax, (col, title)) in enumerate(zip(axes.flat, columns.items())):
        data = [measures.loc[labels.index[labels == s], col].dropna().to_numpy() for s in segs]
        box = ax.boxplot(data, orientation="horizontal", whis=(5, 95), showfliers=False, patch_artist=True, widths=0.6)
        for patch, s in zip(box["boxes"], segs):
            patch.set_facecolor(colour(s))
            patch.set_alpha(0.75)
        for median in box["medians"]:
            median.set_color("black")
        ax.set_yticks(range(1, len(segs) + 1), [str(s) for s in segs] if i % ncols else
                      [segment_label(s, names.get(s, "")) for s in segs], fontsize=8)
        ax.set_title(title, fontsize=9)
        ax.invert_yaxis()
        if col in money:
            _money(ax, "x")
            lo = min((np.percentile(d, 5) for d in data if len(d)), default=0)
            if lo > 0:
                ax.set_xscale("log")
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout(h_pad=1.5)
    return svg(fig)


def kinds_chart(sums: pd.DataFrame, labels: pd.Series, kinds: list[str]) -> str:
    """The mix of transaction kinds of each segment: shares of its transactions, stacked. Interest credited to the
    account (Berka's monthly UROK) and interest or fees charged share one kind; drawn apart, so that the biggest
    block of every Berka segment does not read as customers paying interest."""
    segs = sorted(labels.unique())
    counts = sums[[f"n_{k}" for k in kinds]].groupby(labels).sum()
    if "n_interest_fees" in counts and "n_interest_credited" in sums:
        credited = sums["n_interest_credited"].groupby(labels).sum()
        at = list(counts.columns).index("n_interest_fees")
        counts.insert(at, "n_interest_credited", credited)
        counts["n_interest_fees"] -= credited
        counts = counts.rename(columns={"n_interest_fees": "n_interest_and_fees_charged"})
    total = sums["transactions"].groupby(labels).sum()
    shares = counts.div(total, axis=0).reindex(segs).fillna(0)
    shares["other"] = (1 - shares.sum(axis=1)).clip(lower=0)
    fig, ax = subplots(figsize=(8.5, 0.38 * len(segs) + 1.4))
    left = np.zeros(len(segs))
    # one colour per kind (ten with interest credited drawn apart; a repeated colour read as the same kind)
    cmap = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
            "#bab0ac"]
    for i, col in enumerate(shares.columns):
        v = shares[col].to_numpy()
        ax.barh(range(len(segs)), v, left=left, color=cmap[i % len(cmap)], label=col.removeprefix("n_")
                .replace("_", " "))
        left += v
    ax.set_yticks(range(len(segs)), [str(s) for s in segs])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the segment's transactions")
    ax.set_ylabel("segment")
    ax.legend(fontsize=7, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False)
    return svg(fig)


def monthly_chart(monthly: pd.DataFrame, currency: str | None, names: dict | None = None) -> str:
    """Median money in, money out and month-end balance per segment over a customer's months, with the
    interquartile band; the segments' legend below the panels (never on the lines)."""
    has_balance = monthly["balance_median"].notna().any()
    panels = [("income", "money in / month"), ("spending", "money out / month")] + \
        ([("balance", "month-end balance")] if has_balance else [])
    fig, axes = subplots(1, len(panels), figsize=(3.3 * len(panels), 2.8), squeeze=False)
    later = monthly[monthly["month_number"] >= 1]  # the first month (an opening deposit, a part month) sets no scale
    for ax, (name, title) in zip(axes[0], panels):
        for s, g in monthly.groupby("segment"):
            g = g[g["customers"] >= 5]  # a month too few customers reach is not drawn
            x = g["month_number"].to_numpy() + 1
            ax.fill_between(x, g[f"{name}_q1"], g[f"{name}_q3"], color=colour(s), alpha=0.12, lw=0)
            ax.plot(x, g[f"{name}_median"], color=colour(s), lw=1.4, label=f"{s}")
        lo, hi = later[f"{name}_q1"].min(), later[f"{name}_q3"].max()
        if np.isfinite(lo) and np.isfinite(hi) and hi > lo:
            pad = 0.08 * (hi - lo)
            ax.set_ylim(min(lo, 0) - pad if name != "balance" else lo - pad, hi + pad)
        ax.set_title(title + (f" ({currency})" if currency else ""), fontsize=9)
        ax.set_xlabel("month of the customer's history", fontsize=8)
        _money(ax)
        ax.tick_params(labelsize=8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    names = names or {}
    fig.legend(handles, [f"{s}: {names[int(s)]}" if int(s) in names else s for s in labels], title="segment",
               fontsize=7, title_fontsize=7, ncol=min(len(labels), 3), loc="upper center", bbox_to_anchor=(0.5, 0.0),
               frameon=False)
    return svg(fig)


def rate_chart(table: pd.DataFrame, rate: str, low: str, high: str, overall: float | None, title: str,
               xlabel: str, names: dict | None = None) -> str:
    """A rate per segment (labelled with its name) with its 95% interval drawn, and the overall rate (its legend
    below the axes, never over an interval)."""
    segs = list(table.index)
    fig, ax = subplots(figsize=(6.2, 0.42 * len(segs) + 1.3))
    y = np.arange(len(segs))
    r = table[rate].to_numpy(float)
    ax.errorbar(r, y, xerr=[r - table[low].to_numpy(float), table[high].to_numpy(float) - r], fmt="none",
                ecolor="#555", capsize=3, lw=1)
    ax.scatter(r, y, c=[colour(s) for s in segs], s=40, zorder=3)
    if overall is not None and np.isfinite(overall):
        ax.axvline(overall, color="#a50f15", ls="--", lw=1, label=f"all customers {overall:.1%}")
        fig.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, 0.0), frameon=False)
    names = names or {}
    ax.set_yticks(y, [segment_label(s, names[s]) if s in names else str(s) for s in segs], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, max(1e-3, float(np.nanmax(table[high].to_numpy(float)))) * 1.05)
    from matplotlib.ticker import PercentFormatter

    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_title(title, fontsize=9)
    return svg(fig)


def reliability_chart(calibration: pd.DataFrame) -> str:
    """Observed outcome rate against the mean estimate, by decile of estimated risk (out of fold): a calibrated
    model lies on the diagonal."""
    fig, ax = subplots(figsize=(4.2, 3.8))
    est, obs = calibration["mean_estimate"].to_numpy(float), calibration["observed_rate"].to_numpy(float)
    top = max(1e-3, float(np.nanmax(np.r_[est, obs]))) * 1.08
    ax.plot([0, top], [0, top], color="#999", ls="--", lw=1, label="calibrated")
    ax.plot(est, obs, "o-", color="#2b6cb0", ms=4, lw=1.2, label="deciles of estimated risk")
    from matplotlib.ticker import PercentFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("mean estimated risk", fontsize=8)
    ax.set_ylabel("observed rate", fontsize=8)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("reliability (customers with an outcome, out of fold)", fontsize=9)
    return svg(fig)
