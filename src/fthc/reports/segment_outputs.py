"""The files `fthc segment` writes, from a fitted segmentation's `SegmentationResult` (docs/outputs.md describes
every file and column).

    assignments.csv   one row per customer: segment, its name, confidence, transactions, short_history, ...
    profile.csv       one row per segment and one for all customers: every profile figure
    k_choice.csv      when k was chosen: prediction strength per k, its spread and verdict
    risk.csv          where outcomes exist: per segment, outcomes, rate and interval
    segments.md       the summary: how, the segments with their names and descriptions, notes
    segments.html     the page to open (`fthc.reports.segment_page`)
    model/            the saved Segmenter, for `fthc assign` (saved by `fthc.app.commands`, not here)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..progress import counted
from ..segments.profile import FIGURES, KEY_COLUMNS
from ..segments.result import SegmentationResult
from .html import percent
from .output_folder import write_table

LABELS = {"customers": "customers", "share": "share"} | {f.column: f.label for f in FIGURES}


def assignments_table(result: SegmentationResult, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """The fitted customers' assignments with their ids as a column (ids exactly as they came in)."""
    table = result.assignments
    if extra is not None:
        table = table.join(extra)
    return table.reset_index()


def key_profile(profile: pd.DataFrame, currency: str | None = None) -> pd.DataFrame:
    """A few key columns of the profile, formatted to read (the rest is in profile.csv)."""
    cols = [c for c in KEY_COLUMNS if c in profile.columns and profile[c].notna().any()]
    if "loan_default_rate" in profile.columns:
        cols.append("loan_default_rate")
    out = pd.DataFrame(index=profile.index)
    for c in cols:
        v = profile[c]
        if c == "customers":
            out[c] = v.map(lambda x: f"{int(x):,}")
        elif c in ("median_income", "median_balance"):
            out[LABELS[c] + (f" ({currency})" if currency else "")] = v.map(lambda x: f"{x:,.0f}")
        elif c == "median_transactions":
            out[LABELS[c]] = v.map(lambda x: f"{x:.1f}")
        else:
            out[LABELS.get(c, c.replace("_", " "))] = v.map(lambda x: percent(x, digits=0))
    return out


def md(text) -> str:
    """Text from the data (notes, category values, names) as Markdown shows it, never as HTML or formatting that
    many Markdown viewers would render: <, >, & as entities, Markdown's own characters escaped."""
    import html
    import re

    return re.sub(r"([\\`*_\[\]|])", r"\\\1", html.escape(str(text), quote=False))


def markdown_table(df: pd.DataFrame, index_name: str = "segment") -> list[str]:
    cols = [index_name] + [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    for idx, row in df.iterrows():
        lines.append("| " + " | ".join([md(idx)] + [md(v) for v in row]) + " |")
    return lines


def write_markdown(result: SegmentationResult, out: Path, summary: dict) -> None:
    p = result.profile
    segs = p.drop(index="all", errors="ignore")
    size = f"{counted(len(segs), 'segment')}, {counted(p.loc['all', 'customers'], 'customer')}"
    lines = [f"# Customer segments ({size})", "",
             f"Open **segments.html** for the charts. Method: `{summary['method']}` ({summary['model']}); data: "
             f"{md(summary['data'])}.", ""]
    if result.k_why:
        lines += [f"**Choice of k.** {result.k_why}. The table per k is in k_choice.csv.", ""]
    lines += [f"- Note: {md(n)}." for n in result.notes] + ([""] if result.notes else [])
    lines += ["## Segments", ""]
    names = pd.DataFrame({"name": pd.Series(result.names), "description": pd.Series(result.descriptions)})
    lines += markdown_table(pd.DataFrame({"customers": segs["customers"].map(lambda x: f"{int(x):,}")})
                            .join(names))
    lines += ["", "## Key figures", "",
              "Medians are of the segment's customers; shares are shares of its customers (profile.csv has every "
              "figure).", ""]
    lines += markdown_table(key_profile(p, result.currency))
    lines += ["", f"`confidence` in assignments.csv: the share of {result.refits} refits of the "
              "segmentation, each on a random half of the customers, that put the customer in its segment (how "
              "reproducible its assignment is).", ""]
    for section in summary.get("sections", []):
        lines += section + [""]
    (out / "segments.md").write_text("\n".join(lines))


def write_segment_outputs(result: SegmentationResult, out: Path, summary: dict,
                          extra_columns: pd.DataFrame | None = None,
                          tables: dict[str, pd.DataFrame] | None = None) -> list[str]:
    """Every file of a segmentation into `out` (a fresh folder, where the command may already have saved the
    model); returns the names of everything in it."""
    out = Path(out)
    write_table(assignments_table(result, extra_columns), out / "assignments.csv")
    write_table(result.profile, out / "profile.csv", index=True)
    if result.k_choice is not None:
        write_table(result.k_choice, out / "k_choice.csv", index=True)
    for name, table in (tables or {}).items():
        write_table(table, out / name, index=True)
    write_markdown(result, out, summary)
    from .segment_page import write_segment_page

    write_segment_page(result, out / "segments.html", summary)
    return sorted(p.name for p in out.iterdir())
