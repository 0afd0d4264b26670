"""`fthc report`: the paper's figures from a store, as PNG files, a self-contained HTML page and Markdown.

Works on a partially finished grid and says how complete it is. Every bar of a top-5 chart states how many
valid runs are behind it, so that a lucky single run does not top the chart unnoticed.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import DEFAULT_PRESET, PRESETS, option_label
from ..experiments.report_table import export_frame, status_summary
from ..experiments.store import Store
from ..progress import announce, report
from .figures import subplots
from .html import Section, esc, page, table, wide

COMPONENTS = ["autoencoder", "pretext", "clustering", "distance", "reduction"]


def runs_frame(store: Store) -> pd.DataFrame:
    """One row per finished run: config fields, status, metrics (test and train), seconds."""
    rows = []
    for r in store.runs():
        if r.status not in ("done", "invalid"):
            continue
        row = {c: r.config.get(c) for c in COMPONENTS + ["k"]}
        row.update(config_id=r.config_id, run=r.run_index, status=r.status, train_seconds=r.train_seconds)
        for part in ("train", "test"):
            for key, value in (r.metrics.get(part) or {}).items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    row[f"{part}_{key}"] = value
        row["option"] = option_label(row)
        row["label"] = f"{row['autoencoder']}+{row['pretext']}+{row['option']}"
        rows.append(row)
    if not rows:  # nothing finished yet: the columns every figure expects, no rows
        return pd.DataFrame(columns=COMPONENTS + ["k", "config_id", "run", "status", "train_seconds", "option",
                                                 "label"])
    return pd.DataFrame(rows)


@dataclass
class DefaultMethod:
    """fthc's default method as this report sees it: the grid is the paper's search space, so a reader needs to
    know whether the method fthc recommends was among its runs, and how it fared beside them."""

    preset: str  # its name in fthc.config.PRESETS
    label: str  # how the grid's runs label it (autoencoder+pretext+option)
    config: str  # its configuration in words, e.g. 'autoencoder=features, pretext=none, clustering=kmeans'
    runs: pd.DataFrame  # its valid (done) runs in this grid; empty where the grid did not hold it

    @property
    def in_grid(self) -> bool:
        return not self.runs.empty

    def line(self) -> str:
        """One sentence for the summary: its figures where the grid ran it, else which one it is and that the
        grid did not."""
        if not self.in_grid:
            return (f"fthc's default method is {self.preset} ({self.config}); it was not in this grid, so no figure "
                    "here compares it with the paper's methods (docs/benchmarks.md does).")
        shown = (("test_ari", "ARI"), ("test_input_silhouette", "silhouette"),
                 ("test_input_davies_bouldin", "Davies-Bouldin"))
        figures = [f"{name} {self.runs[col].mean():.3f}" for col, name in shown
                   if col in self.runs and self.runs[col].notna().any()]
        return (f"fthc's default method, {self.preset} ({self.config}), is in this grid as {self.label}: "
                f"{len(self.runs):,} valid runs, mean test {', '.join(figures)}; marked \"fthc's default\" in the "
                "table and charts below.")


def preset_runs(df: pd.DataFrame, fields: dict) -> pd.DataFrame:
    """The valid (done) runs among `df` (runs_frame's) of a preset's `fields`: every field the runs record
    (sizes such as arch are not part of the comparison), and no reduction unless the preset names one. The one
    way this report finds a preset's runs, for the presets chart and for fthc's default alike."""
    runs = df[df["status"] == "done"]
    for key, value in fields.items():
        if key in runs.columns:
            runs = runs[runs[key] == value]
    return runs if "reduction" in fields else runs[runs["reduction"] == "none"]


def default_method(df: pd.DataFrame) -> DefaultMethod:
    """The default preset and its valid runs among `df` (runs_frame's); `label` is how the grid's tables and
    charts name it, so that they can mark it."""
    fields = {"distance": "eucl", "reduction": "none", **PRESETS[DEFAULT_PRESET].fields}
    label = f"{fields['autoencoder']}+{fields['pretext']}+{option_label(fields)}"
    config = ", ".join(f"{c}={fields[c]}" for c in ("autoencoder", "pretext", "clustering") if c in fields)
    return DefaultMethod(DEFAULT_PRESET, label, config, preset_runs(df, PRESETS[DEFAULT_PRESET].fields))


DEFAULT_MARK = " (fthc's default)"
DEFAULT_COLOUR = "tab:orange"  # the default's bars beside the grid's blue ones


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def fig_top5(df: pd.DataFrame, metric: str, better: str, out: Path, default: str | None = None) -> Path | None:
    """The five best configurations per k by a metric; the default method's bar (label `default`) in its own
    colour where it is among them."""
    valid = df[df["status"] == "done"]
    col = f"test_input_{metric}"
    if valid.empty or col not in valid:
        return None
    ks = sorted(valid["k"].unique())
    # wide enough for the title and the labels where the grid has a single k
    fig, axes = subplots(1, len(ks), figsize=(max(4.2 * len(ks), 7.5), 3.6), squeeze=False)
    for ax, k in zip(axes[0], ks):
        g = valid[valid["k"] == k].groupby("label")[col].agg(["mean", "std", "count"])
        g = g.sort_values("mean", ascending=(better == "low")).head(5)
        ax.barh(range(len(g)), g["mean"], xerr=g["std"].fillna(0),
                color=[DEFAULT_COLOUR if lab == default else "tab:blue" for lab in g.index])
        ax.set_yticks(range(len(g)), [f"{lab}{DEFAULT_MARK if lab == default else ''} (n={n})"
                                      for lab, n in zip(g.index, g["count"])], fontsize=7)
        ax.invert_yaxis()
        ax.set_title(f"k = {k}", fontsize=9)
        ax.set_xlabel(f"{metric.replace('_', ' ')} on test input ({'higher' if better == 'high' else 'lower'} is "
                      "better)", fontsize=8)
    fig.suptitle(f"Top-5 configurations per k by {metric.replace('_', ' ')} (mean +- std over valid runs)",
                 fontsize=10)
    return _save(fig, out / f"top5_{metric}.png")


# each component is compared among the runs where it applies: distance only among DTC runs (k-means has none),
# reduction only among k-means runs (DTC has none); otherwise every k-means run would count as distance 'eucl'
COMPARED_AMONG = {"distance": ("clustering", "dtc"), "reduction": ("clustering", "kmeans")}


def fig_components(df: pd.DataFrame, out: Path) -> Path | None:
    valid = df[df["status"] == "done"]
    if valid.empty:
        return None
    metrics = (("test_input_silhouette", "silhouette", "higher", "tab:green"),
               ("test_input_davies_bouldin", "Davies-Bouldin", "lower", "tab:orange"))
    fig, axes = subplots(len(COMPONENTS), 2, figsize=(10, 2.9 * len(COMPONENTS)), squeeze=False)
    for i, comp in enumerate(COMPONENTS):
        among = COMPARED_AMONG.get(comp)
        runs = valid[valid[among[0]] == among[1]] if among else valid
        scope = f" (among {among[1]} runs only)" if among else ""
        for j, (metric, name, better, colour) in enumerate(metrics):
            ax = axes[i, j]
            if runs.empty or metric not in runs:
                ax.set_axis_off()
                ax.set_title(f"{name} by {comp}: no {among[1] if among else ''} runs yet", fontsize=9)
                continue
            g = runs.groupby(comp)[metric].agg(["mean", "std", "count"])
            ax.bar(range(len(g)), g["mean"], yerr=g["std"].fillna(0), color=colour)
            ax.set_xticks(range(len(g)), [f"{v}\n(n={n})" for v, n in zip(g.index, g["count"])], fontsize=9)
            ax.set_title(f"{name} by {comp}{scope}; {better} is better", fontsize=9)
            ax.set_ylabel(f"test {name}, mean +- std", fontsize=8)
    return _save(fig, out / "components.png")


def best_table(df: pd.DataFrame, n: int = 10, keep: str | None = None) -> pd.DataFrame:
    """The best configurations with their rank and how many valid runs each mean rests on: by mean test ARI where
    the data has planted segments (silhouette rewards well-separated latent spaces, not recovered segments; on
    synthetic Berka it ranks the methods that recover the segments least first), else by mean test silhouette.
    The rows of configuration `keep` follow the first `n` wherever they rank, so the default is always beside
    the grid's best."""
    valid = df[df["status"] == "done"]
    if valid.empty or "test_input_silhouette" not in valid:
        return pd.DataFrame()
    cols = {"test_input_silhouette": "silhouette", "test_input_davies_bouldin": "Davies-Bouldin",
            "test_ari": "ARI"}
    g = valid.groupby(["label", "k"])[[c for c in cols if c in valid]].mean().rename(columns=cols)
    g["valid runs"] = valid.groupby(["label", "k"]).size()
    g["invalid runs"] = df[df["status"] == "invalid"].groupby(["label", "k"]).size().reindex(g.index).fillna(0) \
        .astype(int)
    by = "ARI" if "ARI" in g and g["ARI"].notna().any() else "silhouette"
    g = g.sort_values(by, ascending=False).reset_index().rename(columns={"label": "configuration"})
    g.insert(0, "rank", range(1, len(g) + 1))
    shown = g.index < n
    if keep is not None:
        shown |= g["configuration"] == keep
    return g[shown].reset_index(drop=True)


HOW_TO_READ = (
    "How to read this report. Each run trains one configuration on half of the customers and is scored on the "
    "other half (test). Silhouette (higher is better, at most 1) and Davies-Bouldin (lower is better) are computed "
    "on the input series, so configurations with different latent spaces are compared on the same ground; they "
    "measure how compact and separate the segments are, not whether they are useful. Where the data has planted "
    "segments (synthetic Berka), ARI says how well they were recovered (1 is perfect, 0 is chance). A run is "
    "invalid when it delivered fewer non-empty segments than k; the table counts them. Prefer configurations "
    "whose mean rests on several valid runs, and compare components only within the panels, where like is "
    "compared with like.")


def fig_invalid(df: pd.DataFrame, out: Path) -> Path | str | None:
    """The share of degenerate runs per clustering option; where no run was degenerate, a line that says so (a
    chart of zero-height bars reads as a chart that failed to draw)."""
    if df.empty:
        return None
    g = df.groupby("option")["status"].apply(lambda s: 100 * (s == "invalid").mean())
    if not (g > 0).any():
        return (f"No clustering was degenerate: each of the {len(df):,} finished runs delivered k non-empty "
                "clusters.")
    fig, ax = subplots(figsize=(6, 3.2))
    bars = ax.bar(g.index, g.values, color="tab:red")
    ax.bar_label(bars, fmt="%.0f%%", fontsize=8)
    ax.set_ylim(0, float(g.max()) * 1.2)
    ax.set_ylabel("% of runs with a degenerate clustering")
    ax.set_title("Invalid (fewer than k non-empty clusters) per clustering option")
    ax.tick_params(axis="x", rotation=20, labelsize=8)
    return _save(fig, out / "invalid.png")


def fig_presets(df: pd.DataFrame, out: Path) -> Path | None:
    """Test silhouette of the named methods the grid ran: the paper's and, where the grid holds it, fthc's default
    in its own colour."""
    rows = []
    for name, fields in ((n, p.fields) for n, p in PRESETS.items() if n == DEFAULT_PRESET or
                         ("pretext" in p.fields and p.fields["pretext"] != "none")):
        m = preset_runs(df, fields)
        if len(m):
            rows.append((name, m["test_input_silhouette"].mean(), m["test_input_silhouette"].std(), len(m)))
    if not rows:
        return None
    fig, ax = subplots(figsize=(6, 3.2))
    mine = [r[0] == DEFAULT_PRESET for r in rows]
    labels = [f"{r[0]}\n{DEFAULT_MARK.strip()}\n(n={r[3]})" if m else f"{r[0]}\n(n={r[3]})" for r, m in zip(rows, mine)]
    ax.bar(labels, [r[1] for r in rows], yerr=[0 if np.isnan(r[2]) else r[2] for r in rows],
           color=[DEFAULT_COLOUR if m else "tab:blue" for m in mine])
    ax.set_ylabel("test silhouette (input space)")
    ax.set_title("FTHC against the paper's baselines (all k, valid runs)")
    return _save(fig, out / "presets.png")


def fig_time(df: pd.DataFrame, out: Path) -> Path | None:
    if df.empty or df["train_seconds"].isna().all():
        return None
    fig, axes = subplots(1, 3, figsize=(11, 3.2))
    for ax, comp in zip(axes, ("autoencoder", "pretext", "option")):
        g = df.groupby(comp)["train_seconds"].mean()
        ax.bar(g.index, g.values, color="tab:purple")
        ax.set_ylabel("training seconds per run (mean)")
        ax.set_title(f"training time by {comp}", fontsize=9)
        ax.tick_params(axis="x", rotation=25, labelsize=7)
    return _save(fig, out / "time.png")


def fig_latent_vs_input(df: pd.DataFrame, out: Path) -> Path | None:
    valid = df[df["status"] == "done"]
    if valid.empty or "test_latent_silhouette" not in valid:
        return None
    fig, axes = subplots(1, 2 if "test_ari" in valid else 1, figsize=(10, 3.6), squeeze=False)
    ax = axes[0, 0]
    for ae, g in valid.groupby("autoencoder"):
        ax.scatter(g["test_input_silhouette"], g["test_latent_silhouette"], s=12, label=ae)
    ax.set_xlabel("silhouette on the input series")
    ax.set_ylabel("silhouette on the latent space")
    ax.set_title("The same clusterings measured in two spaces", fontsize=9)
    ax.legend(fontsize=7)
    if "test_ari" in valid:
        g = valid.groupby("option")["test_ari"].agg(["mean", "std"])
        axes[0, 1].bar(g.index, g["mean"], yerr=g["std"].fillna(0))
        axes[0, 1].set_ylabel("ARI against the planted segments (test)")
        axes[0, 1].set_title("Recovery of ground truth per clustering option", fontsize=9)
        axes[0, 1].tick_params(axis="x", rotation=20, labelsize=8)
    return _save(fig, out / "latent_vs_input.png")


# the page's styles: a column of readable width with a margin on every window (at 800 px the text kept off the
# edges), tables that scroll within the column rather than widen the page
GRID_CSS = ("body{box-sizing:border-box;max-width:1164px;margin:0 auto;padding:24px 32px 48px;font-family:sans-serif;"
       "line-height:1.4;color:#222}"
       "img{max-width:100%;height:auto}"
       "table{border-collapse:collapse;font-size:90%}td,th{padding:2px 8px;text-align:right}"
       "td:nth-child(-n+2),th:nth-child(-n+2){text-align:left}"  # the rank and the configuration
       "tr.default td{background:#fde9cf;font-weight:600}"
       "@media (max-width:600px){body{padding:16px 14px 32px}}")


def _cells(best: pd.DataFrame, default: str | None) -> list[list[str]]:
    """The best-configurations table as text, the default method's configuration marked."""
    return [[f"{v:.3f}" if isinstance(v, float) else str(v) + (DEFAULT_MARK if c == "configuration" and v == default
                                                               else "") for c, v in zip(best.columns, row)]
            for row in best.itertuples(index=False)]


def _html_table(best: pd.DataFrame, default: str | None) -> str:
    """The best-configurations table, the default method's rows marked and shaded; its text is report.md's
    (`_cells`), so the page and the Markdown cannot disagree."""
    texts = pd.DataFrame(_cells(best, default), columns=best.columns).set_index("rank")
    marked = {str(r) for r in best.loc[best["configuration"] == default, "rank"]}
    return wide(table(texts, index="rank", row_class=lambda rank: "default" if rank in marked else None))


def write_report(store: Store, out: Path, segments_page: Path | None = None) -> dict:
    """All figures, report.html (images embedded, no external resources), report.md and results.csv; with
    `segments_page`, a link to that customer-segment page first (the page people read; this one compares methods).
    Beside the grid, fthc's default method: its figures and marked rows where the grid ran it, else one line that
    says which it is and that the grid did not."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    announce("reading the runs from the store")
    status = status_summary(store)
    df = runs_frame(store)
    default = default_method(df)
    mark = default.label if default.in_grid else None
    export_frame(store).to_csv(out / "results.csv", index=False)
    plots = [("Top-5 configurations by silhouette", lambda: fig_top5(df, "silhouette", "high", out, mark)),
             ("Top-5 configurations by Davies-Bouldin index",
              lambda: fig_top5(df, "davies_bouldin", "low", out, mark)),
             ("Mean and spread per component", lambda: fig_components(df, out)),
             ("Degenerate clusterings per clustering option", lambda: fig_invalid(df, out)),
             ("FTHC against its baselines", lambda: fig_presets(df, out)),
             ("Training time per component", lambda: fig_time(df, out)),
             ("Input space next to latent space, and ground truth", lambda: fig_latent_vs_input(df, out))]
    figures = []
    for i, (title, draw) in enumerate(plots):
        figures.append((title, draw()))
        report("figures", i + 1, len(plots))
    figures = [(t, p) for t, p in figures if p is not None]  # a figure's PNG, or the line that stands for it
    c = status["counts"]
    summary = (f"{status['complete']:.0%} of {status['total'] - c['skipped']:,} runs finished: {c['done']:,} done, "
               f"{c['invalid']:,} invalid, {c['failed']:,} failed, {c['skipped']:,} skipped, "
               f"{c['pending'] + c['running']:,} to go.")
    md = ["# fthc experiment report", "", summary, "", default.line(), "", HOW_TO_READ, ""]
    sections = [Section("summary", None, f"<p>{esc(summary)}</p><p class=\"default-method\">{esc(default.line())}"
                        f"</p><p>{esc(HOW_TO_READ)}</p>")]
    if segments_page is not None:
        link = Path(os.path.relpath(Path(segments_page).resolve(), out.resolve())).as_posix()
        md[1:1] = ["", f"The customer segments: [{link}]({link}).", ""]
        sections.append(Section("segments-page", None, f"<p>The customer segments: <a href=\"{esc(link)}\">"
                                f"{esc(link)}</a> (this page compares the paper's methods).</p>"))
    best = best_table(df, keep=mark)
    if not best.empty:
        by = "ARI against the planted segments" if "ARI" in best and best["ARI"].notna().any() else \
            "test silhouette (no planted segments to compare with)"
        heading = f"Best configurations by {by} (mean over valid test runs)"
        best.to_csv(out / "best_configurations.csv", index=False)
        cells = _cells(best, mark)
        md += [f"## {heading}", "", "| " + " | ".join(best.columns) + " |",
               "|" + "---|" * len(best.columns), *("| " + " | ".join(r) + " |" for r in cells), ""]
        sections.append(Section("best", heading, _html_table(best, mark)))
    for title, path in figures:
        anchor = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        if isinstance(path, str):
            md += [f"## {title}", "", path, ""]
            sections.append(Section(anchor, title, f"<p>{esc(path)}</p>"))
            continue
        md += [f"## {title}", "", f"![{title}]({path.name})", ""]
        data = base64.b64encode(path.read_bytes()).decode()
        sections.append(Section(anchor, title, f"<img alt=\"{esc(title)}\" src=\"data:image/png;base64,{data}\">"))
    pngs = [p for _, p in figures if isinstance(p, Path)]
    if not figures:
        md.append("No finished runs yet.")
        sections.append(Section("no-runs", None, "<p>No finished runs yet.</p>"))
    (out / "report.md").write_text("\n".join(md))
    (out / "report.html").write_text(page("fthc experiment report", sections, css=GRID_CSS), encoding="utf-8")
    return {"out": out, "figures": pngs, "summary": summary}
