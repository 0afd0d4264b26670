"""What the commands print: one console, the progress display, and the tables and lines of each command's result
(nothing here computes; it words what `fthc.app` returns)."""

from __future__ import annotations

from contextlib import contextmanager

import pandas as pd
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..progress import counted
from ..risk.estimator import LOWER

console = Console(soft_wrap=True, markup=False)  # long paths stay on one line; paths and values are text, never markup



@contextmanager
def showing_progress():
    """Stage, step, loss and ETA of what runs inside: a progress bar on a terminal, else a line every 30 s."""
    from ..progress import ProgressReporter, reporting

    with ProgressReporter(console) as reporter, reporting(reporter):
        yield reporter


def say(line: str) -> None:
    """A line as it is: its [brackets] and numbers are text, never markup or highlighting."""
    console.print(Text(line))


def print_inspect(path, info: dict) -> None:
    """`fthc data inspect`: the tables and their rows, the transactions' figures, and the problems found."""
    t = Table(title=f"fthc data inspect {path}")
    t.add_column("table")
    t.add_column("rows", justify="right")
    for name, rows in info["tables"].items():
        t.add_row(name, f"{rows:,}")
    console.print(t)
    if info.get("columns"):
        console.print(f"columns: {info['columns']}", highlight=False)
    if "transactions" in info:
        console.print(f"transactions: {info['transactions']:,}   customers: {info['customers']:,}   "
                      f"dates: {info['date_min']} .. {info['date_max']}")
        pc = info["per_customer"]
        console.print("transactions per customer: " + "  ".join(f"{k} {v:,.1f}" for k, v in pc.items()))
        console.print("kinds: " + ", ".join(f"{k} {v:,}" for k, v in info["kinds"].items() if v))
    if info["skipped_rows"]:
        console.print(info["skipped_summary"], highlight=False)
    if info["problems"]:
        console.print("problems found:", style="yellow")
        for p in info["problems"]:
            console.print(Text(f"  - {p}"))
    else:
        console.print("no problems found", style="green")


def print_status(s: dict, workers: int) -> None:
    """`fthc status`: counts by status, leases, the ETA and the failures with their errors."""
    failed = s["counts"]["failed"]
    t = Table(title=f"runs ({s['complete']:.0%} finished" + (f", {failed:,} of them failed" if failed else "") + ")")
    for status in s["counts"]:
        t.add_column(status, justify="right")
    t.add_row(*[f"{v:,}" for v in s["counts"].values()])
    console.print(t)
    if s["mean_run_seconds"]:
        console.print(f"mean run {s['mean_run_seconds']:.1f} s; pretext stage reused in {s['pretext_reused']} runs")
    if s["leased"]:
        console.print(f"{s['leased']} run(s) held by a worker under a lease; if their workers are gone, they are "
                      f"claimed again once the lease ends (the last in {s['lease_ends_in']:.0f} s)")
    if s["expired_leases"]:
        console.print(f"{s['expired_leases']} run(s) whose worker stopped renewing its lease: counted as pending, "
                      "the next `fthc run` takes them")
    if s["counts"]["failed"] or s["counts"]["invalid"]:
        console.print("put failed runs back with `fthc reset --status failed` (or --status invalid)")
    if s["eta_seconds"] is not None:
        console.print(f"ETA with {workers} worker(s): {s['eta_seconds'] / 3600:.1f} h")
    for cfg, i, err in s["failures"][:20]:
        console.print(Text("failed", style="red") + Text(f" {cfg['autoencoder']}+{cfg['pretext']}+{cfg['clustering']} "
                                                         f"k={cfg['k']} run {i}: {err}"), highlight=False)


def print_segments(r: dict, title: str = "segments") -> None:
    """The choice of k, notes, one line per segment with its name and key figures, and the risk."""
    fitted = r["result"]  # the SegmentationResult (`fthc.segments.result`)
    if fitted.k_why:
        console.print(Text(fitted.k_why))
    for note in fitted.notes:
        console.print(Text(f"note: {note}"))
    p = fitted.profile
    money = f" ({fitted.currency})" if fitted.currency else ""
    from rich import box

    t = Table(title=f"{title} (k={r['k']}); medians of customers{money}; descriptions in segments.md",
              box=box.SIMPLE_HEAD, pad_edge=False)
    t.add_column("seg", no_wrap=True)
    t.add_column("customers", justify="right", no_wrap=True)
    t.add_column("name", min_width=24, ratio=1)
    for col in ("income/mo", "balance", "neg."):
        t.add_column(col, justify="right", no_wrap=True)
    risky = r.get("risk") is not None
    if risky:
        t.add_column("default", justify="right", no_wrap=True)
    table = r["risk"]["table"] if risky else None
    for s, row in p.drop(index="all").iterrows():
        cells = [str(s), f"{int(row['customers']):,}", Text(fitted.names.get(s, "")), f"{row['median_income']:,.0f}",
                 "-" if pd.isna(row.get("median_balance")) else f"{row['median_balance']:,.0f}",
                 "-" if pd.isna(row.get("share_ever_negative")) else f"{row['share_ever_negative']:.0%}"]
        if risky:
            q = table.loc[s] if s in table.index else None
            cells.append("-" if q is None or not q["with_outcome"] else f"{q['rate']:.0%}/{int(q['with_outcome'])}")
        t.add_row(*cells)
    console.print(t)
    if r.get("risk"):
        for line in r["risk"]["lines"][:3 if r["risk"]["check"].get("learnt") else 2]:
            console.print(Text(line))
    view = r.get("inclusion")
    if view is not None:
        v = view["summary"]
        console.print(Text(f"inclusion: {v['invisible_in_favourable']:,} of the {v['invisible']:,} customers without "
                           f"a credit history sit in segments whose rate's 95% interval is at or below the "
                           f"portfolio's {v['portfolio_rate']:.1%} (inclusion.csv); "
                           f"{v['graded']:,} of them have a risk and a grade in assignments.csv, "
                           f"{v['invisible'] - v['graded']:,} too short a history in the window to grade"))


def print_track(r, every: str, alerts: str, out) -> None:
    """`fthc track`: the customers followed, the latest migrations, the early-warning alerts and drift."""
    ends = sorted(r.tracks["period_end"].unique())
    last = r.tracks[r.tracks["period_end"] == ends[-1]]
    say(f"{counted(r.tracks['customer_id'].nunique(), 'customer')} over {counted(len(ends), every)} "
        f"({pd.Timestamp(ends[0]).date()} to {pd.Timestamp(ends[-1]).date()}); at the last, "
        f"{len(last):,} with a window")
    moved = r.migration[(r.migration["kind"] == "segment") & (r.migration["from"] != r.migration["to"])]
    latest = moved[moved["period_end"] == moved["period_end"].max()] if len(moved) else moved
    if len(latest):
        say(f"moved between segments in the last {every}: {int(latest['customers'].sum()):,}")
    flagged = r.early_warning[r.early_warning["period_end"] == ends[-1]] if len(r.early_warning) else \
        r.early_warning
    rules = flagged["rule"].value_counts() if len(flagged) else pd.Series(dtype=int)
    say(f"early warning in the last {every}: {counted(len(flagged), 'alert')} (budget {alerts}"
        + "".join(f"; {n:,} {rule}" for rule, n in rules.items()) + "; early_warning.csv)")
    told = ("early warning:", "periods:")  # the others are drift's
    drift_notes = [n for n in r.notes if not n.startswith(told)]
    for note in r.notes:
        say(note if note.startswith(told) else f"drift: {note}")
    if not drift_notes:
        say("drift: every input, the segment shares and the risk stable against the fit (PSI < 0.10; drift.csv)")
    say(f"tracks: {out / 'tracks.html'} (and tracks.parquet, migration.csv, early_warning.csv, drift.csv)")


def explain_lines(e: dict) -> list[str]:
    """`fthc explain`: the customer's segment and confidence, the traits that place it there, its risk, grade and
    the reasons for them, and its affordability."""
    row = e["row"]
    lines = [f"customer {e['customer']}: segment {int(row['segment'])} ({e['name']}), confidence "
             f"{row['confidence']:.2f}, {counted(row['transactions'], 'transaction')}"]
    lines.append("what places it there rather than in the next nearest segment"
                 + (f" ({e['nearest']})" if e.get("nearest") else "") + ":")
    lines += [f"  {i + 1}. {text}" for i, text in enumerate(e["traits"])]
    if "risk" in row and pd.notna(row["risk"]):
        est = e["estimator"]
        lines.append(f"estimated risk {row['risk']:.1%} (90% interval {row['risk_low']:.1%}-{row['risk_high']:.1%}), "
                     f"grade {int(row['risk_grade'])} of the master scale's {len(est.grades_.table)} "
                     f"(estimated risk {est.grades_.band(int(row['risk_grade']))}); the portfolio's rate "
                     f"{est.portfolio_rate_:.1%}")
        if row.get("has_outcome"):
            lines.append(f"known outcome: {'positive (defaulted)' if row['outcome'] == 1 else 'negative (repaid)'}; "
                         "its risk comes from a model that never saw this outcome")
        reasons = str(row["risk_reasons"])
        lower = reasons.startswith(LOWER)
        lines.append("lower risk than most; what lowers it most against the portfolio:" if lower else
                     "what raises its risk most against the portfolio:" if est.has_signal else "risk:")
        lines += [f"  {i + 1}. {text}" for i, text in enumerate(reasons.removeprefix(LOWER).split("; "))]
    elif "risk_reasons" in row:
        lines.append(f"no risk estimated: {row['risk_reasons']}")
    if "typical_income" in row and pd.notna(row["typical_income"]):
        lines.append(affordability_line(row))
    return lines


def affordability_line(row) -> str:
    """A customer's affordability figures in one line (`fthc.offer.affordability`)."""
    def money(col):
        return "-" if pd.isna(row.get(col)) else f"{row[col]:,.0f}"

    buffer = row.get("buffer")
    return (f"affordability ({int(row['window_months'])}-month window): typical month income {money('typical_income')}, "
            f"spending {money('typical_spending')}, free cash flow {money('typical_free_cash_flow')} (a bad month "
            f"{money('bad_month_free_cash_flow')}), loan payments {money('commitments')} a month, buffer "
            + ("-" if pd.isna(buffer) else f"{buffer:.1f} months") + " of spending")
