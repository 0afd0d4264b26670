"""`fthc quickstart` in its steps: the main job on the embedded defaults. A quick grid of the paper's components
and its report, customer segments with the default method (their risk learnt from a Berka folder's loans where it
has enough of them) and what to offer them. Each step returns what the command prints between them."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import TooFewOutcomes

QUICK_GRID = dict(autoencoder=("fcnn", "resnet", "lstm", "dtc"), pretext=("mse",), clustering=("kmeans", "dtc"),
                  distance=("eucl", "cid"), k=(2, 4), reduction=("none", "pca"), runs=2, pretrain_batches=40,
                  dtc_batches=20, representation="calendar",
                  arch={"resnet": {"filters": 32}, "lstm": {"hidden": 32}})
MIN_LOANS = 20  # a Berka folder with no more loans than this: segments without risk (too few to learn from)


def quick_grid(mapping=None, lenient: bool = False):
    """The quick grid, reading the data with `mapping` (a ColumnMapping or None) and `lenient`."""
    from dataclasses import replace

    from ..experiments.grid import Grid

    return replace(Grid(**QUICK_GRID), column_mapping=mapping.to_dict() if mapping else None, lenient=lenient)


def init_quick_grid(store_url: str, mapping=None, lenient: bool = False) -> tuple[int, int]:
    """Write the quick grid into the store; returns its configurations and runs per configuration."""
    from ..experiments.grid import expand
    from ..experiments.store import open_store

    grid = quick_grid(mapping, lenient)
    entries = expand(grid)
    with open_store(store_url) as store:
        store.init_grid(entries, grid.runs, grid.to_dict())
    return len(entries), grid.runs


def quick_report(store_url: str, out: Path) -> dict:
    """The quick grid's report in out/report, linking the segments' page."""
    from ..experiments.store import open_store
    from ..reports.grid_report import write_report

    with open_store(store_url) as store:
        return write_report(store, out / "report", segments_page=out / "segments" / "segments.html")


def loan_outcomes(data) -> str | None:
    """'loans' where `data` is a Berka folder with enough loans to learn the risk from, else None."""
    loans = Path(data) / "loan.asc"  # a Berka folder: its loans are the outcomes the risk learns from
    if not loans.is_file():
        return None
    with loans.open() as lines:
        return "loans" if sum(1 for _ in lines) > MIN_LOANS else None


def quick_segments(data, out: Path, mapping=None, lenient: bool = False,
                   said: Callable[[str], None] | None = None) -> dict:
    """Segments with the default method in out/segments, with the risk learnt from a Berka folder's loans. A
    small bank, whose loans are too few to learn from, gets its segments without risk (`said` is told why)."""
    from ..segments.segmenter import Segmenter
    from .commands import segment

    outcomes = loan_outcomes(data)
    segmenter = Segmenter(k="auto", columns=mapping, lenient=lenient)
    try:
        return segment(data, out / "segments", segmenter, force=False, outcomes=outcomes)
    except TooFewOutcomes as exc:
        if said is not None:
            said(f"no risk learnt: {exc}; the segments follow without it")
        return segment(data, out / "segments", segmenter, force=False)


def quick_offer(segments: dict, data, out: Path, mapping=None, lenient: bool = False):
    """What to offer, with the product's stated defaults, in out/offer: an OfferResult where the segments learnt
    a risk, else None."""
    if segments["segmenter"].outcome_model_ is None:
        return None
    from ..offer.product import Product
    from .offer import offer

    return offer(out / "segments" / "model", data, out / "offer", Product(), mapping, lenient)
