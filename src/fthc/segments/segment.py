"""`fthc segment` and `fthc assign` as functions: thin layers over `Segmenter` that check every output path before
any work, write the results atomically (`fthc.reports.output_folder`), and return what the command prints."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError, FthcError
from ..progress import announce
from .segmenter import Segmenter


def segment(data, out: Path, segmenter: Segmenter, *, force: bool = False, allow_fewer: bool = True,
            outcomes=None) -> dict:
    """Fit `segmenter` on `data` (and `outcomes`) and write every output into `out`; returns the summary the
    CLI prints."""
    from ..reports.output_folder import check_output_folder, results_folder
    from ..reports.segment_outputs import write_segment_outputs
    from .risk_report import risk_summary

    out = Path(out)
    inputs = [Path(data)] if isinstance(data, (str, Path)) else []
    if hasattr(outcomes, "path"):
        inputs.append(Path(outcomes.path))
    check_output_folder(out, inputs, force)
    seg = segmenter.fit(data, outcomes=outcomes)
    risk = risk_summary(seg)
    degenerate = bool(seg.model_.degenerate_)
    summary = {"method": seg.method if isinstance(seg.method, str) else "config", "model": repr(seg.model_),
               "data": str(data) if isinstance(data, (str, Path)) else "a DataFrame", "risk": risk,
               "sections": risk.get("markdown", []) if risk else []}
    announce("writing the results")
    with results_folder(out, "segment", force) as tmp:
        tables = {"risk.csv": risk["csv"]} if risk else {}
        files = write_segment_outputs(seg, tmp, summary, tables=tables)
    filled = int((seg.profile_.drop(index="all")["customers"] > 0).sum())
    result = {"segmenter": seg, "k": int(seg.model_.head_.k), "out": out, "files": files, "risk": risk,
              "degenerate": degenerate, "filled": filled}
    if degenerate and not allow_fewer:
        raise FthcError(f"only {filled} of the {result['k']} segments asked for have customers (written to {out}); "
                        "ask for fewer segments, or accept this with --allow-fewer")
    return result


def assign(model_dir: Path, data, out: Path | None = None, mapping=None, lenient: bool = False,
           engine: str | None = None) -> pd.DataFrame:
    """Score customers with a saved model, read and built exactly as at fitting; write `out` (CSV or Parquet)."""
    from ..reports.output_folder import check_output_file, write_table

    if out is not None:
        check_output_file(Path(out), [Path(data), Path(model_dir)] if isinstance(data, (str, Path)) else
                          [Path(model_dir)])
    seg = Segmenter.load(model_dir)
    if mapping is not None:
        seg.columns = mapping
    if engine is not None:
        seg.engine = engine
    seg.lenient = lenient
    announce(f"scoring {data} with {model_dir}")
    result = seg.assign(data).reset_index()
    if out is not None:
        write_table(result, Path(out))
    return result


__all__ = ["DataError", "assign", "segment"]
