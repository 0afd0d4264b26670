"""What a segmentation says about risk, in the words and tables of its outputs (risk.csv, segments.md, the page),
from the honest figures of `fthc.risk.outcome_check`."""

from __future__ import annotations

import pandas as pd

from ..segments.result import SegmentationResult


def _auc(a: dict) -> str:
    return (f"{a['auc']:.3f} (95% {a['auc_low']:.3f}-{a['auc_high']:.3f}; {a['customers']:,} customers, "
            f"{a['positives']:,} positive)")


def judged_rate(result: SegmentationResult) -> float:
    """The portfolio's rate a segmentation's segments are judged against (`fthc.risk.inclusion`)."""
    from ..risk.inclusion import portfolio_rate

    known = result.known_outcomes if result.outcome_model is not None else None
    return portfolio_rate(result.outcome_check["by_segment"], known)


def grades_words(table: pd.DataFrame) -> str:
    """The grades customers with an outcome fall in, in one phrase: 'grades 4-8 of the master scale's 10 (observed
    rates 3%, 9%, 15%, 28%, 51%)'."""
    used = table[table["customers"] > 0]
    if not len(used):
        return f"no customer with an outcome in any of the master scale's {len(table)} grades"
    span = f"grade {used.index[0]}" if len(used) == 1 else f"grades {used.index[0]}-{used.index[-1]}"
    rates = ", ".join(f"{r.rate:.0%}" + ("" if r.enough else "*") for r in used.itertuples())
    few = "; * fewer than 30 outcomes" if not used["enough"].all() else ""
    return f"{span} of the master scale's {len(table)} (observed rates {rates}{few})"


def grades_markdown(g: pd.DataFrame) -> list[str]:
    """The master scale's table for segments.md. Counts are whole numbers whatever the frame's dtypes: a row read
    across a table whose columns are all numbers is floats, and printed '232.0'."""
    rows = ["| grade | estimated risk | customers with an outcome | observed rate | 95% interval |",
            "| --- | --- | --- | --- | --- |"]
    for r in g.itertuples():
        n = int(r.customers)
        said = f"{r.rate:.1%} | {r.rate_low:.1%}-{r.rate_high:.1%}" + ("" if r.enough else " (few outcomes)")
        rows.append(f"| {int(r.Index)} | {r.risk_from:.1%}-{r.risk_to:.1%} | {n:,} | {said if n else '- | -'} |")
    return rows


def risk_summary(result: SegmentationResult) -> dict | None:
    """Tables, lines and page text of the outcomes, or None when there are none."""
    from ..risk.inclusion import evidence

    c = result.outcome_check
    if c is None:
        return None
    table = c["by_segment"].copy()
    learnt, source = c["learnt"], c["source"]
    placed = c["placed_by"]
    overall = judged_rate(result)
    table["evidence"] = [evidence(r, overall) for _, r in table.iterrows()]
    lines = []
    grades_line = ""
    signal = c.get("signal") or {"beats": True}
    if learnt and not signal["beats"]:
        lines.append(f"risk: no pattern beyond the portfolio's rate in the outcomes of {c['customers_with_outcome']:,} "
                     f"customers ({source}): {c['model']}, chosen by nested cross-validation, scored out of fold "
                     f"AUC {signal['auc']:.3f} (95% {signal['auc_low']:.3f}-{signal['auc_high']:.3f}) and log-loss "
                     f"{signal['logloss']:.3f} against {signal['logloss_base']:.3f} for the portfolio's rate alone; "
                     f"so every customer is given the portfolio's rate {result.outcome_model.portfolio_rate_:.1%}, one "
                     "grade, and no reasons (more outcomes, or another --window, may find one)")
        lines.append(f"{grades_words(c['grades'])}")
        lines.append(f"segment-only AUC {_auc(c['segment_auc'])} with {result.risk_why or 'risk weight 0'}")
    elif learnt:
        lines.append(f"risk: outcomes of {c['customers_with_outcome']:,} customers ({source}) learnt by "
                     f"{c['model']} chosen by nested cross-validation; per-customer AUC {_auc(c['customer_auc'])}; "
                     f"Brier score {c['brier']:.3f} (the overall rate alone: {c['brier_base']:.3f})")
        grades_line = f"{grades_words(c['grades'])}: AUC {_auc(c['grade_auc'])}"
        lines.append(grades_line)
        lines.append(f"segment-only AUC {_auc(c['segment_auc'])} with {result.risk_why or 'risk weight 0'}"
                     + (f"; the unsupervised segments: {c['unsupervised_auc']:.3f}" if "unsupervised_auc" in c
                        else ""))
    else:
        lines.append(f"risk separation ({source}, not used for fitting): cross-validated AUC "
                     f"{_auc(c['segment_auc'])} from segment rates; k-means on summary features, same k: "
                     f"{_auc(c['baseline_auc'])}")
    lines.append(f"each customer with an outcome placed and scored from its {placed}; a segment's rate learnt "
                 "on the other folds")
    md = ["## Risk", "", *[f"- {line[0].upper() + line[1:]}." for line in lines], "",
          "| segment | customers | with outcome | without | positive | rate | 95% interval | evidence |"
          + (" estimated risk of those without (95%) |" if learnt else ""),
          "| --- | --- | --- | --- | --- | --- | --- | --- |" + (" --- |" if learnt else "")]
    for s, r in table.iterrows():
        row = (f"| {s}: {result.names.get(s, '')} | {int(r['customers']):,} | {int(r['with_outcome']):,} | "
               f"{int(r['without_outcome']):,} | {int(r['positives']):,} | "
               + (f"{r['rate']:.0%} | {r['rate_low']:.0%}-{r['rate_high']:.0%} |" if r["with_outcome"]
                  else "- | - |") + f" {r['evidence']} |")
        if learnt:
            row += (f" {r['risk_without_outcome']:.1%} ({r['risk_low_without_outcome']:.1%}-"
                    f"{r['risk_high_without_outcome']:.1%}) |" if pd.notna(r.get("risk_without_outcome")) else " - |")
        md.append(row)
    segment_grades = None
    if learnt:
        g = c["grades"]
        md += ["", f"Risk grades on the master scale ({len(g)} fixed bands of estimated risk, the same for every fit; "
               "observed rates of the customers with an outcome, each by its out-of-fold risk):", ""]
        md += grades_markdown(g)
        cal = c["calibration"]
        md += ["", "Calibration (customers with an outcome, out of fold, by decile of estimated risk):", "",
               "| decile | customers | mean estimate | observed |", "| --- | --- | --- | --- |"]
        md += [f"| {d} | {int(r['customers'])} | {r['mean_estimate']:.1%} | {r['observed_rate']:.1%} |"
               for d, r in cal.iterrows()]
        md += ["", "What drives risk in this portfolio (mean absolute contribution to the log-odds): "
               + ", ".join(f"{n} {w:.2f}" for n, w in c["drivers"].head(6).items()) + "."]
        segment_grades = pd.crosstab(result.labels, result.risk["risk_grade"]).rename_axis(index="segment",
                                                                                       columns="grade")
        segment_grades.columns = [f"grade {g}" if g else "no grade (history too short, or none)"
                                  for g in segment_grades.columns]
    html = "<p>" + "<br>".join(line[0].upper() + line[1:] + "." for line in lines) + "</p>"
    csv = table.copy()
    return {"table": table, "csv": csv, "line": "; ".join(lines[:2]), "lines": lines, "markdown": [md],
            "html": html, "overall": overall, "title": "outcome rate per segment (customers with an outcome)",
            "xlabel": "share of the segment's customers with an outcome that were positive (e.g. in default)",
            "check": c, "grades_line": grades_line, "segment_grades": segment_grades}
