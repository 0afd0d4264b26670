"""tracks.html: behaviour over time on one self-contained page (styles and charts inline, no script, nothing
fetched), beside the tables of `fthc track`: the segment shares period by period, the last transition matrix as a
heat map with its counts, the drift table, and the early-warning list of the last period."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..risk.grades import MASTER_SCALE
from .charts import colour, segment_label, svg
from .figures import subplots
from .html import Section, chart, esc, page, percent, table

SHOWN_WARNINGS = 50  # rows of the last period's early-warning list on the page (all of them in the CSV)


def _period_ticks(ax, ends) -> None:
    ax.set_xticks(range(len(ends)), [pd.Timestamp(p).strftime("%Y-%m") for p in ends], fontsize=8,
                  rotation=45 if len(ends) > 6 else 0)


def legend_below(ax, ncol: int, gap: float = 6.0) -> None:
    """The axes' legend under its tick labels, however far rotated ones reach (a legend at a fixed offset lands
    on them); call it once the layout is final. The page's SVG is cropped to include it."""
    bottom = ax.get_tightbbox().y0 - gap  # display pixels
    y = ax.transAxes.inverted().transform((0, bottom))[1]
    ax.legend(fontsize=7, ncol=ncol, loc="upper center", bbox_to_anchor=(0.5, y), frameon=False)


def shares_chart(tracks: pd.DataFrame, names: dict) -> str:
    """Each segment's share of the customers at every period's end, stacked."""
    shares = tracks.groupby(["period_end", "segment"]).size().unstack(fill_value=0)
    shares = shares.div(shares.sum(axis=1), axis=0)
    fig, ax = subplots(figsize=(7.5, 3.2))
    x = np.arange(len(shares))
    bottom = np.zeros(len(shares))
    for s in shares.columns:
        v = shares[s].to_numpy()
        ax.bar(x, v, bottom=bottom, color=colour(int(s)), width=0.8, label=f"{s}: {names.get(int(s), '')}")
        bottom += v
    _period_ticks(ax, shares.index)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of customers", fontsize=8)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    legend_below(ax, ncol=2)
    return svg(fig)


def risk_chart(tracks: pd.DataFrame, names: dict) -> str:
    """Risk over the periods in two panels: each segment's mean estimated risk with all customers' (a segment
    whose risk climbs shows before its customers move), and the share of the customers in each grade, stacked
    (the book's drift toward the worst grades at a glance)."""
    import textwrap

    import matplotlib
    from matplotlib.ticker import PercentFormatter

    ends = sorted(tracks["period_end"].unique())
    x = np.arange(len(ends))
    fig, (left, right) = subplots(1, 2, figsize=(9.0, 2.9))
    mean = tracks.groupby(["period_end", "segment"])["risk"].mean().unstack().reindex(ends)
    for s in mean.columns:
        left.plot(x, mean[s].to_numpy(), "o-", color=colour(int(s)), ms=3.5, lw=1.4,
                  label=textwrap.shorten(f"{int(s)}: {names.get(int(s), '')}", 40, placeholder="…"))
    overall = tracks.groupby("period_end")["risk"].mean().reindex(ends)
    left.plot(x, overall.to_numpy(), "--", color="#1d2433", lw=1.2, label="all customers")
    top = float(np.nanmax(np.r_[mean.to_numpy(dtype=float).ravel(), overall.to_numpy(dtype=float)]))
    left.set_ylim(0, top * 1.15 + 1e-3)
    left.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    left.set_ylabel("mean estimated risk", fontsize=8)
    left.set_title("mean estimated risk per segment", fontsize=9)

    grades = tracks.groupby(["period_end", "risk_grade"]).size().unstack(fill_value=0).reindex(ends, fill_value=0)
    grades = grades.div(grades.sum(axis=1), axis=0)
    worst = max(len(MASTER_SCALE) + 1, int(grades.columns.max()))  # colours fixed on the scale, not on the data
    cmap = matplotlib.colormaps["RdYlGn_r"]
    bottom = np.zeros(len(ends))
    for g in grades.columns:
        v = grades[g].to_numpy()
        g = int(g)
        name = "no estimate" if g == 0 else f"grade {g}" + (" (lowest risk)" if g == 1 else "")
        right.bar(x, v, bottom=bottom, width=0.8, label=name,
                  color="#bdbdbd" if g == 0 else cmap(0.05 + 0.9 * (g - 1) / max(worst - 1, 1)))
        bottom += v
    right.set_ylim(0, 1)
    right.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    right.set_ylabel("share of customers", fontsize=8)
    right.set_title("customers by risk grade (1: lowest risk)", fontsize=9)
    for ax in (left, right):
        _period_ticks(ax, ends)
        ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout(w_pad=3.0)
    legend_below(left, ncol=2)
    legend_below(right, ncol=3)
    return svg(fig)


def transition_chart(migration: pd.DataFrame, names: dict) -> str:
    """The last pair of periods' segment-to-segment rates as a heat map, each cell with its count."""
    last = migration[(migration["kind"] == "segment") & (migration["period_end"] == migration["period_end"].max())]
    segs = sorted(set(last["from"]) | set(last["to"]))
    rate = last.pivot_table(index="from", columns="to", values="rate", fill_value=0).reindex(index=segs, columns=segs,
                                                                                          fill_value=0)
    count = last.pivot_table(index="from", columns="to", values="customers", fill_value=0).reindex(
        index=segs, columns=segs, fill_value=0)
    fig, ax = subplots(figsize=(1.0 * len(segs) + 3.2, 0.7 * len(segs) + 1.6))
    ax.imshow(rate.to_numpy(), cmap="Blues", vmin=0, vmax=1)
    for i in range(len(segs)):
        for j in range(len(segs)):
            r, n = rate.iat[i, j], int(count.iat[i, j])
            ax.text(j, i, f"{n:,}\n{r:.0%}" if n else "", ha="center", va="center", fontsize=7,
                    color="white" if r > 0.6 else "#1d2433")
    labels = [segment_label(s, names.get(s, "")) for s in segs]
    ax.set_xticks(range(len(segs)), [str(s) for s in segs], fontsize=8)
    ax.set_yticks(range(len(segs)), labels, fontsize=8)
    ax.set_xlabel("segment at the end of the period", fontsize=8)
    ax.set_ylabel("segment a period before", fontsize=8)
    return svg(fig)


# The page's sections, in order: each a function of the `Tracks`, the segments' names and the period's name that
# returns its Section, or None where the page has no such section. A new section: one function, one line in
# SECTIONS.


def summary_section(result, names: dict, every: str) -> Section:
    """Who was tracked over which periods, and how; the notes of the tracking."""
    t = result.tracks
    ends = sorted(t["period_end"].unique())
    notes = ("<ul class='notes'>" + "".join(f"<li>{esc(n)}</li>" for n in result.notes) + "</ul>"
             if result.notes else "")
    return Section("summary", None, f"<p class='sub'>{t['customer_id'].nunique():,} customers over {len(ends)} "
                   f"{esc(every)}s, {pd.Timestamp(ends[0]).date()} to {pd.Timestamp(ends[-1]).date()}: each placed by "
                   "the fitted model (no refit) from its window of history ending at each period's end.</p>" + notes)


def risk_section(result, names: dict, every: str) -> Section:
    """The risk chart, or the one line that says why there is none (a model fitted without outcomes scores no
    risk, and an empty chart would read as a risk of zero)."""
    tracks = result.tracks
    if "risk" not in tracks or not tracks["risk"].notna().any():
        return Section("risk", "Risk over time", "<p class='no-risk'>No risk over time: the model was fitted without "
                       "outcomes, so no customer has an estimated risk or grade (fit it with <code>fthc segment "
                       "--outcomes</code>).</p>")
    return Section("risk", "Risk over time", chart(
        risk_chart(tracks, names), "Left: each segment's mean estimated risk at every period's end, and all "
        "customers' (dashed). Right: the share of the customers in each risk grade of the master scale; "
        "migration.csv has the moves between grades.", "risk"))


def shares_section(result, names: dict, every: str) -> Section:
    """Each segment's share of the customers, period by period."""
    return Section("shares", "Segment shares", chart(shares_chart(result.tracks, names), "The share of the customers "
                                                     "in each segment at the end of every period.", "shares"))


def migration_section(result, names: dict, every: str) -> Section | None:
    """The last pair of periods' moves between segments, as a heat map."""
    m = result.migration
    if not len(m):
        return None
    last = pd.Timestamp(m["period_end"].max()).date()
    return Section("migration", "Migration", chart(
        transition_chart(m, names), f"From each segment a period before {last} (rows) to each segment at "
        f"{last} (columns): customers and the row's rate; migration.csv has every period, the grades, and a "
        "95% interval for each rate (a small row reads as a range).", "transitions"))


def drift_section(result, names: dict, every: str) -> Section:
    """The population stability index of each input, the shares and the risk at the last period."""
    d = result.drift
    latest = d[d["period_end"] == d["period_end"].max()].set_index("name")[["what", "psi", "flag"]]
    against = "the fit" if (d["against"] == "fit windows").all() else "the first period"
    return Section("drift", "Drift", "<p>Population stability index of each input, the segment shares and the risk "
                   f"at the last period against {against}: under 0.10 stable, 0.10-0.25 watch, 0.25 or more shifted "
                   "(refit).</p>"
                   + table(latest, {"psi": lambda v: f"{v:.3f}"}, index="input",
                           flag=lambda c, v: c == "flag" and v == "shifted"))


def early_warning_section(result, names: dict, every: str) -> Section | None:
    """The last period's early-warning alerts (the first SHOWN_WARNINGS of them), where the model scores risk."""
    t, w = result.tracks, result.early_warning
    if "risk" not in t:
        return None
    shown = w[w["period_end"] == w["period_end"].max()] if len(w) else w
    band = next((n for n in result.notes if n.startswith("early warning:")), "")  # also in the notes above
    said = (f"<p>{len(shown):,} alerts at the last period, within its budget, filled "
            "in order: high risk (at least twice the portfolio's rate), then a deterioration beyond the "
            "score's own noise, then a move into a worst grade; the first "
            f"{min(len(shown), SHOWN_WARNINGS)} here, all of them in early_warning.csv. "
            f"{esc(band[len('early warning: '):].capitalize()) if band else ''}.</p>")
    if len(shown):
        alerts = shown.head(SHOWN_WARNINGS).set_index("customer_id")[["rule", "segment", "risk_before", "risk", "why",
                                                                      "risk_reasons"]]
        said += table(alerts, {"risk_before": percent, "risk": percent}, index="customer")
    return Section("early-warning", "Early warning", said)


SECTIONS = [summary_section, risk_section, shares_section, migration_section, drift_section, early_warning_section]


def write_tracks_page(result, path: Path, names: dict, every: str) -> None:
    """Write tracks.html for the `Tracks` of `Segmenter.track`."""
    Path(path).write_text(page("Customers over time", [section(result, names, every) for section in SECTIONS]),
                          encoding="utf-8")
