"""The data a command reads when none is given: synthetic Berka, generated once into the working folder."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

DEFAULT_DATA = Path("fthc-data/berka")


def default_data(data: Path | None, said: Callable[[str], None] | None = None) -> Path:
    """The user's data, or synthetic Berka generated once into the working folder (`said` is told so first)."""
    if data is not None:
        return data
    if not (DEFAULT_DATA / "trans.asc").exists():
        from ..data.synth import write_synthetic_berka

        if said is not None:
            said(f"no --data given: generating synthetic Berka into {DEFAULT_DATA} (once)")
        write_synthetic_berka(DEFAULT_DATA)
    return DEFAULT_DATA
