"""What the experiment grid's commands do on a store: `fthc init-db` (a grid written only into a store that holds
none, or the same one read the same way), `status`, `reset`, `export` and `report`. Each returns what the command
prints."""

from __future__ import annotations

from pathlib import Path

from ..errors import FthcError
from ..experiments.store import mask_url, open_store


def init_grid(store_url: str | None, grid_file: Path | None = None, mapping=None, lenient: bool = False) -> dict:
    """Write the grid of `grid_file` (else the paper's) and its runs into the store, adding only what is missing.
    The mapping and leniency are stored with the grid, so that every worker reads the data the same way; a store
    that holds another grid, or reads the data another way, is refused naming the differences."""
    from dataclasses import replace

    from ..experiments.grid import Grid, expand

    grid = Grid.from_toml(grid_file) if grid_file else Grid()
    entries = expand(grid)
    grid = replace(grid, column_mapping=mapping.to_dict() if mapping else None, lenient=lenient)
    with open_store(store_url) as store:
        stored = store.grid()
        if stored is not None:
            if not (mapping or lenient):  # no mapping given: the stored grid's way of reading the data stays
                grid = replace(grid, column_mapping=stored.column_mapping, lenient=stored.lenient)
            if (stored.column_mapping, stored.lenient) != (grid.column_mapping, grid.lenient):
                raise FthcError(f"{mask_url(store.url)} already holds a grid that reads the data with column mapping "
                                f"{stored.column_mapping} (lenient: {stored.lenient}); use a new store for another "
                                "mapping")
            mine = grid.to_dict()
            differ = {k: (v, mine.get(k)) for k, v in stored.to_dict().items()
                      if _canonical(v) != _canonical(mine.get(k))}
            if differ:
                raise FthcError(f"{mask_url(store.url)} already holds another grid: "
                                + "; ".join(f"{k} is {a!r} there, {b!r} here" for k, (a, b) in sorted(differ.items()))
                                + "; use a new store for this grid (or the stored grid file)")
        added, existing = store.init_grid(entries, grid.runs, grid.to_dict())
        return {"store": mask_url(store.url), "added": added, "existing": existing, "configurations": len(entries),
                "skipped": sum(e.skipped is not None for e in entries), "runs": grid.runs}


def _canonical(value):
    import json

    return json.loads(json.dumps(value, sort_keys=True, default=list))


def grid_status(store_url: str | None, workers: int = 1) -> dict:
    """Counts by status, leases, the ETA with `workers` workers, and the failures (`status_summary`)."""
    from ..experiments.report_table import status_summary

    with open_store(store_url, create=False, readonly=True) as store:
        return status_summary(store, workers)


def reset_runs(store_url: str | None, statuses, only: str | None = None) -> tuple[str, int]:
    """Put the finished runs of `statuses` (of the configurations `only` keeps) back to pending; returns the
    store's masked URL and how many."""
    from ..experiments.runner import parse_filter

    keep = parse_filter(only)
    with open_store(store_url, create=False) as store:
        ids = [cid for cid, cfg, _ in store.configs() if keep(cfg)] if only else None
        return mask_url(store.url), store.reset(set(statuses), ids)


def export_results(store_url: str | None, out: Path) -> int:
    """One row per configuration with every run's metrics, written to `out` (CSV, replaced whole); returns the
    rows."""
    from ..experiments.report_table import export_frame

    with open_store(store_url, create=False, readonly=True) as store:
        df = export_frame(store)
    df.to_csv(out, index=False)
    return len(df)


def grid_report(store_url: str | None, out: Path) -> dict:
    """The paper's figures from the store: report.html, report.md, PNG figures and results.csv in `out`."""
    from ..reports.grid_report import write_report

    with open_store(store_url, create=False, readonly=True) as store:
        return write_report(store, out)
