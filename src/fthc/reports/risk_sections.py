"""The risk sections of the outputs (segments.html and segments.md): the inclusion view and the fairness audit,
from the frames `fthc.risk.inclusion` and `fthc.risk.fairness` compute. `esc` escapes text for HTML
(`fthc.reports.html.esc` unless given)."""

from __future__ import annotations

import pandas as pd

from ..risk.fairness import FOUR_FIFTHS, MIN_GROUP
from ..risk.inclusion import evidence
from .html import esc as html_esc
from .html import percent


def inclusion_html(view: dict, names: dict, esc=html_esc) -> str:
    s = view["summary"]
    rows = []
    for seg, r in view["by_segment"].iterrows():
        mark = " class='good'" if seg in s["favourable"] else ""
        says = evidence(r, s["portfolio_rate"])
        est = (f"{r['risk_without_outcome']:.1%} ({r['risk_low_without_outcome']:.1%}-"
               f"{r['risk_high_without_outcome']:.1%})" if pd.notna(r.get("risk_without_outcome")) else "-")
        rate = f"{r['rate']:.1%} ({r['rate_low']:.0%}-{r['rate_high']:.0%})" if r["with_outcome"] else "-"
        rows.append(f"<tr{mark}><td>{seg}: {esc(names.get(seg, ''))}</td><td>{int(r['with_outcome']):,}</td>"
                    f"<td>{rate}</td><td>{says}</td><td>{int(r['without_outcome']):,}</td><td>{est}</td></tr>")
    return (f"<p><b>{s['invisible_in_favourable']:,}</b> of the {s['invisible']:,} customers without a credit "
            f"history sit in segments whose customers with one default at or below the portfolio's rate "
            f"({s['portfolio_rate']:.1%}), the whole 95% interval of the rate at or below it; "
            f"{s['below_portfolio_risk']:,} of them have an estimated risk whose upper bound is below it too. They "
            "are listed in inclusion.csv with their estimate and grade. Highlighted (green): those segments. A "
            "customer with a history is placed here by its behaviour before its outcome's date (what was known "
            "then), so these rates differ from the loan figures of the segment cards, which place it by its whole "
            "history.</p><table class='data'><tr><th>segment</th><th>with history</th><th>their default rate "
            "(95%)</th><th>evidence</th><th>without history</th><th>estimated risk of those without (95% interval "
            "of the mean)</th></tr>"
            + "".join(rows) + "</table>")


def fairness_html(table: pd.DataFrame, found: dict, esc=html_esc) -> str:
    """Per attribute: each group's membership of the favourable segments against the most favoured group's."""
    if table.empty:
        return ""
    parts = [f"<p>Attributes were <b>not</b> used to fit the segments. Favourable: {esc(found['basis'])} "
             f"({', '.join(map(str, found['favourable'])) or 'none'}). A group is flagged (red) where its rate of "
             f"membership is below {FOUR_FIFTHS:.0%} of the most favoured group's and the ratio's whole 95% interval "
             f"is below 1 (groups of fewer than {MIN_GROUP} customers are shown, not flagged).</p>"]
    per_group = table.drop_duplicates(["attribute", "group"]).copy()
    with_risk = per_group["mean_risk"].notna().any()   # an outcome model was learnt: its estimates per group
    for attribute, g in per_group.groupby("attribute", sort=False):
        rows = "".join(
            f"<tr{' class=flag' if r['flagged'] else ''}><td>{esc(r['group'])}</td><td>{int(r['customers']):,}</td>"
            f"<td>{percent(r['favourable_rate'])}</td>"
            f"<td>{'' if pd.isna(r['ratio_to_most_favoured']) else f'{r.ratio_to_most_favoured:.3f}'}"
            f"{' (reference)' if r['reference'] else _interval(r['ratio_low'], r['ratio_high'])}</td>"
            + (f"<td>{_pct(r['mean_risk'], r['mean_risk_low'], r['mean_risk_high'])}</td>" if with_risk else "")
            + f"<td>{'below 4/5' if r['flagged'] else ''}</td></tr>" for _, r in g.iterrows())
        parts.append(f"<h3>{esc(attribute)}</h3><table class='data'><tr><th>group</th><th>customers</th>"
                     "<th>in favourable segments</th><th>ratio to the most favoured (95%)</th>"
                     + ("<th>mean estimated risk (95%)</th>" if with_risk else "")
                     + f"<th>four-fifths rule</th></tr>{rows}</table>")
        if "calibration" in g:
            parts.append(risk_by_group_html(g, found, esc))
    return "".join(parts)


def risk_by_group_html(g: pd.DataFrame, found: dict, esc=html_esc) -> str:
    """One attribute's groups: observed default rate against the mean out-of-fold estimate, AUC, worst grades."""
    grades = "graded" in g
    rows = "".join(
        f"<tr{' class=flag' if str(r['calibration']).startswith('mis') else ''}><td>{esc(r['group'])}</td>"
        f"<td>{int(r['with_outcome']):,}</td><td>{_pct(r['observed_rate'], r['observed_low'], r['observed_high'])}"
        f"</td><td>{_pct(r['estimated_rate'], r['expected_low'], r['expected_high'])}</td>"
        f"<td>{esc(r['calibration'] or r['risk_note'])}</td>"
        f"<td>{'' if pd.isna(r['auc']) else f'{r.auc:.2f} ({r.auc_low:.2f}-{r.auc_high:.2f})'}</td>"
        + (f"<td>{_pct(r['worst_grade_share'], r['worst_grade_low'], r['worst_grade_high'])}</td>" if grades else "")
        + "</tr>" for _, r in g.iterrows())
    worst = ", ".join(map(str, found.get("worst_grades", [])))
    return ("<table class='data'><tr><th>group</th><th>with an outcome</th><th>observed default rate (95%)</th>"
            "<th>mean estimated risk (the rate's 95% range were it right)</th><th>calibration</th>"
            "<th>AUC within the group (95%)</th>"
            + (f"<th>in the worst grades ({worst}) (95%)</th>" if grades else "") + f"</tr>{rows}</table>")


def _interval(low, high) -> str:
    return "" if pd.isna(low) else f" ({low:.2f}-{high:.2f})"


def _pct(value, low, high) -> str:
    """A share with its interval, blank where there is none."""
    return "" if pd.isna(value) else percent(value) + ("" if pd.isna(low) else f" ({percent(low)}-{percent(high)})")


def inclusion_markdown(view: dict) -> list[str]:
    s = view["summary"]
    return ["## Inclusion", "", f"- {s['invisible_in_favourable']:,} of the {s['invisible']:,} customers without a "
            "credit history sit in segments that default at or below the portfolio's rate "
            f"({s['portfolio_rate']:.1%}): inclusion.csv."]


def fairness_markdown(attributes: list[str], found: dict) -> list[str]:
    flagged = found["flagged"]
    return ["## Fairness", "", f"- Attributes ({', '.join(attributes)}) were not used for fitting. "
            + ("Below four fifths of the most favoured group's rate of membership of the favourable segments: "
               + ", ".join(f"{r.attribute} {r.group} ({r.ratio_to_most_favoured:.3f}; 95% "
                           f"{r.ratio_low:.2f}-{r.ratio_high:.2f})" for r in flagged.itertuples()) + "."
               if len(flagged) else "No group is below four fifths of the most favoured group's rate."
               if found["favourable"] else found["basis"] + ".")] + (
        ["- Risk mis-calibrated for: " + ", ".join(
            f"{r.attribute} {r.group} (observed {r.observed_rate:.1%}, estimated {r.estimated_rate:.1%}; "
            f"{r.calibration.split(': ')[1]})" for r in found["miscalibrated"].itertuples()) + "."]
        if len(found.get("miscalibrated", [])) else [])
