"""`fthc segment`, `assign`, `track` and `explain` as functions: thin layers over `Segmenter` that check every
output path before any work, write the results atomically (`fthc.reports.output_folder`), and return what the
command prints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, FthcError
from ..progress import announce, counted
from ..segments import scoring
from ..segments.result import result_of
from ..segments.segmenter import Segmenter
from ..threads import warm_workers


def earlier_results(out: Path) -> str | None:
    """What an earlier `fthc segment` left in `out`, which this run replaces (said, never silent)."""
    import json

    manifest = out / "model" / "manifest.json"
    if not out.is_dir() or not any(out.iterdir()):
        return None
    what = f"{sum(1 for p in out.rglob('*') if p.is_file()):,} files"
    try:
        saved = json.loads(manifest.read_text())
        info, k = saved["extra"]["segmenter"], saved["config"].get("k")
        what = (f"a model{f' of k={k}' if k else ''} fitted " + ("with outcomes" if info.get("outcome_model")
                else "without outcomes") + f", {what}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return what


def segment(data, out: Path, segmenter: Segmenter, *, force: bool = False, allow_fewer: bool = True,
            outcomes=None, attributes=None) -> dict:
    """Fit `segmenter` on `data` (and `outcomes`) and write every output into `out`; returns the summary the
    CLI prints. `attributes` (a file of customer_id and groups; Berka: its owners' gender, age band and region)
    are audited beside the fitted segments, never used to fit them."""
    from ..reports.output_folder import check_output_folder, results_folder
    from ..reports.segment_outputs import write_segment_outputs
    from ..reports.segment_page import esc
    from ..reports.risk_report import judged_rate, risk_summary
    from ..reports.risk_sections import fairness_html, fairness_markdown, inclusion_html, inclusion_markdown
    from ..risk.fairness import berka_attributes, fairness, read_attributes
    from ..risk.inclusion import inclusion

    out = Path(out)
    inputs = [Path(data)] if isinstance(data, (str, Path)) else []
    if hasattr(outcomes, "path"):
        inputs.append(Path(outcomes.path))
    if attributes is not None:
        inputs.append(Path(attributes))
        if not Path(attributes).is_file():
            raise DataError("attributes file not found", file=attributes)
    check_output_folder(out, inputs, force)
    replaced = earlier_results(out)
    warm_workers()  # the independent fits' workers start while the data is read
    seg = segmenter.fit(data, outcomes=outcomes)
    fitted = result_of(seg)  # what the outputs read, once: the reports never see the Segmenter
    risk = risk_summary(fitted)
    degenerate = fitted.degenerate
    summary = {"method": fitted.method, "model": fitted.model,
               "data": str(data) if isinstance(data, (str, Path)) else "a DataFrame", "risk": risk,
               "sections": risk.get("markdown", []) if risk else []}
    tables = {"risk.csv": risk["csv"]} if risk else {}
    if fitted.population is not None:
        tables["population.csv"] = fitted.population.set_index("input")
    by_segment = fitted.outcome_check["by_segment"] if fitted.outcome_check is not None else None
    portfolio = judged_rate(fitted) if by_segment is not None else None
    learnt = fitted.outcome_model is not None
    view = inclusion(fitted.assignments, by_segment, portfolio) if learnt and by_segment is not None else None
    if view is not None:
        summary["inclusion"] = inclusion_html(view, fitted.names, esc)
        summary["sections"].append(inclusion_markdown(view))
        tables["inclusion.csv"] = view["table"]
    groups = read_attributes(attributes, fitted.labels.index) if attributes is not None else \
        berka_attributes(fitted.context) if fitted.context is not None else None
    if groups is not None:
        risk_of = fitted.risk["risk"] if learnt else None
        learnt_risk = pd.DataFrame({"risk": fitted.outcome_model.oof_["risk"],
                                    "outcome": fitted.outcome_model.outcomes_}) if learnt else None
        grades = fitted.risk["risk_grade"] if learnt else None
        audit, found = fairness(fitted.labels, groups, by_segment, portfolio, risk_of, learnt_risk, grades)
        summary["fairness"] = fairness_html(audit, found, esc)
        summary["sections"].append(fairness_markdown(list(groups.columns), found))
        tables["fairness.csv"] = audit.set_index(["attribute", "group", "segment"])
        if len(found["grades"]):
            tables["fairness_grades.csv"] = found["grades"].set_index(["attribute", "group", "grade"])
    announce("writing the results")
    with results_folder(out, "segment", force) as tmp:
        seg.save(tmp / "model")
        files = write_segment_outputs(fitted, tmp, summary, tables=tables)
    filled = int((fitted.profile.drop(index="all")["customers"] > 0).sum())
    result = {"segmenter": seg, "result": fitted, "k": fitted.k, "out": out, "files": files, "risk": risk,
              "degenerate": degenerate, "filled": filled, "inclusion": view, "replaced": replaced}
    if degenerate and not allow_fewer:
        raise FthcError(f"only {filled} of the {result['k']} segments asked for have customers (written to {out}); "
                        "ask for fewer segments, or accept this with --allow-fewer")
    return result


def loaded(model_dir: Path, mapping=None, lenient: bool = False, engine: str | None = None) -> Segmenter:
    """A saved Segmenter, read with the mapping, leniency and engine of this command."""
    seg = Segmenter.load(model_dir)
    if mapping is not None:
        seg.columns = mapping
    if engine is not None:
        seg.engine = engine
    seg.lenient = lenient
    return seg


def assign(model_dir: Path, data, out: Path | None = None, mapping=None, lenient: bool = False,
           engine: str | None = None) -> pd.DataFrame:
    """Score customers with a saved model, read and built exactly as at fitting; write `out` (CSV or Parquet)."""
    from ..reports.output_folder import check_output_file, write_table

    if out is not None:
        check_output_file(Path(out), [Path(data), Path(model_dir)] if isinstance(data, (str, Path)) else
                          [Path(model_dir)])
    seg = loaded(model_dir, mapping, lenient, engine)
    announce(f"scoring {data} with {model_dir}")
    result = seg.assign(data).reset_index()
    if out is not None:
        write_table(result, Path(out))
    return result


def track(model_dir: Path, data, out: Path, every: str = "quarter", start=None, end=None, periods: int = 12,
          mapping=None, lenient: bool = False, force: bool = False, alerts="5%"):
    """Follow customers over time with a saved model (`Segmenter.track`) and write tracks.parquet, migration.csv,
    early_warning.csv, drift.csv and the page tracks.html into `out` (whole, or not at all)."""
    from ..reports.output_folder import check_output_folder, results_folder, write_table
    from ..reports.tracks_page import write_tracks_page

    out = Path(out)
    check_output_folder(out, [Path(data), Path(model_dir)] if isinstance(data, (str, Path)) else [Path(model_dir)],
                        force)
    from ..segments.alerts import parse_budget

    budget = parse_budget(alerts)
    seg = loaded(model_dir, mapping, lenient)
    result = seg.track(data, every, start, end, periods, budget)
    with results_folder(out, "track", force) as tmp:
        write_table(result.tracks, tmp / "tracks.parquet")
        write_table(result.migration, tmp / "migration.csv")
        write_table(result.early_warning, tmp / "early_warning.csv")
        write_table(result.drift, tmp / "drift.csv")
        write_tracks_page(result, tmp / "tracks.html", seg.names_, every)
    return result


def explain(model_dir: Path, data, customer: str, mapping=None, lenient: bool = False) -> dict:
    """Why a customer is in its segment: its segment and name, confidence, risk where learnt, and the three
    behaviour traits that most place it there rather than the next nearest segment."""
    seg = loaded(model_dir, mapping, lenient)
    measures, inputs, risk = scoring.scored_inputs(seg, data)
    ids = measures.index
    key = customer
    if pd.api.types.is_integer_dtype(ids.dtype):
        if not str(customer).lstrip("-").isdigit():
            raise DataError(f"customer {customer!r} is not among the customers (their ids are integers)",
                            file=str(data))
        key = int(customer)
        if str(key) != str(customer):  # ids are keys: '026' is not customer 26
            raise DataError(f"customer {customer!r} is not among the customers (ids are matched exactly; the data "
                            f"writes its integer ids without leading zeros or signs: did you mean {str(key)!r}?)",
                            file=str(data))
    if key not in ids:
        near = [str(i) for i in ids if str(i).lstrip("0") == str(customer).lstrip("0")][:3] \
            if not pd.api.types.is_integer_dtype(ids.dtype) else []
        hint = f" (ids are matched exactly: did you mean {', '.join(repr(n) for n in near)}?)" if near else ""
        raise DataError(f"customer {customer!r} is not among the {counted(len(ids), 'customer')}{hint}", file=str(data))
    one, model = measures.loc[[key]], seg.segment_model_
    row = model.assign(one, model.clusterer.transform(one if model.representation == "behaviour" else
                                                      _subset(inputs, ids.get_loc(key))),
                       risk.loc[[key]] if risk is not None else None).iloc[0]
    reasons = model.reasons.explain(one, np.array([row["segment"]]))[0]
    nearest = reasons[0].get("next") if reasons and isinstance(reasons[0], dict) else None
    return {"customer": key, "row": row, "reasons": reasons, "phrases": model.reasons.phrases(reasons),
            "traits": [model.reasons.phrases([r]) for r in reasons], "estimator": model.outcome_model,
            "name": model.names.get(int(row["segment"]), ""), "segmenter": seg,
            "nearest": f"segment {nearest}: {model.names.get(int(nearest), '')}" if nearest is not None else None}


def _subset(inputs, i: int):
    return inputs.subset(np.array([i]))


__all__ = ["assign", "explain", "segment", "track"]
