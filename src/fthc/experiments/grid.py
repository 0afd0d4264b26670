"""The experiment grid: the paper's search space by default, overridable from a TOML file.

Options that do not apply collapse (k-means has no distance, DTC no dimension reduction), duplicates are
dropped, and combinations the registries reject are kept as `skipped` entries with the reason.
"""

from __future__ import annotations

import itertools
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..clustering import HEADS
from ..config import ClustererConfig, EncoderConfig, HeadConfig
from ..errors import DataError
from ..data.series import SeriesSpec
from ..data.tables import check_keys, read_toml
from ..errors import FthcError, IncompatibleConfigError, UnknownComponentError


READING = {"column_mapping", "lenient"}  # set by init-db's flags, not by the grid file


@dataclass(frozen=True)
class Grid:
    """Search space and run settings (defaults: the paper's)."""

    autoencoder: tuple[str, ...] = ("fcnn", "resnet", "lstm", "dtc")
    pretext: tuple[str, ...] = ("mse", "multi_rec", "vae")
    clustering: tuple[str, ...] = ("kmeans", "dtc")  # the paper's clustering loss none / dtc
    distance: tuple[str, ...] = ("eucl", "cid")
    k: tuple[int, ...] = (2, 4, 6)
    reduction: tuple[str, ...] = ("none", "pca", "umap")
    # training settings default to the config sections' (the paper's), so there is one source for them
    latent_dim: int = EncoderConfig.latent_dim
    reduced_dim: int = HeadConfig.reduced_dim
    runs: int = 5
    test_fraction: float = 0.5
    pretrain_batches: int = EncoderConfig.pretrain_batches
    batch_size: int = EncoderConfig.batch_size
    lr: float = EncoderConfig.lr
    dtc_batches: int = HeadConfig.dtc_batches
    dtc_lr: float = HeadConfig.dtc_lr
    representation: str = "amounts"
    seq_len: int | None = None
    arch: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-autoencoder size overrides
    # how every worker reads a transaction table: set by init-db's mapping flags, stored with the grid
    column_mapping: dict[str, Any] | None = None
    lenient: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def series_spec(self) -> SeriesSpec:
        """How every run of the grid builds its series."""
        return SeriesSpec(self.representation, seq_len=self.seq_len)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "the stored grid") -> "Grid":
        """A grid read back from a store (JSON lists become tuples again)."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise FthcError(f"{source} has settings this version of fthc does not know: {sorted(unknown)} "
                            "(written by a newer fthc?)")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    @classmethod
    def from_toml(cls, path: str | Path) -> "Grid":
        path = Path(path)
        data = read_toml(path, "grid")
        data = data.get("grid", data)
        check_keys(data, {f.name for f in fields(cls)} - READING, path, "[grid]")
        for name, value in data.items():
            _check_type(name, value, path)
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        grid = cls(**values)
        if not 0 < grid.test_fraction < 1:
            raise DataError("test_fraction must be between 0 and 1", file=path, column="test_fraction")
        if grid.runs < 1:
            raise DataError("runs must be at least 1", file=path, column="runs")
        return grid


def _check_type(name: str, value: Any, path: Path) -> None:
    """A grid value of the wrong type is an error naming the key and an example of what fits, not a traceback
    (runs = "3") nor a misreading ("fcnn" as the list of letters f, c, n, n)."""
    default = next(f for f in fields(Grid) if f.name == name)
    example = default.default if default.default is not MISSING else default.default_factory()

    def kind(v: Any) -> str:
        return "whole number" if isinstance(v, int) and not isinstance(v, bool) else \
            "number" if isinstance(v, float) else "text" if isinstance(v, str) else type(v).__name__

    if isinstance(example, tuple):
        want = kind(example[0])
        ok = isinstance(value, list) and value and all(kind(v) == want for v in value)
        shown = "[" + ", ".join(repr(v) if isinstance(v, str) else str(v) for v in example[:2]) + "]"
        if not ok:
            raise DataError(f"grid value {name} = {value!r} is not a list of {want}s", file=path, column=name,
                            expected=f"a non-empty list, e.g. {name} = {shown}".replace("'", '"'))
        return
    if name == "arch":
        if not (isinstance(value, dict) and all(isinstance(v, dict) for v in value.values())):
            raise DataError(f"grid value arch = {value!r} is not a table of tables", file=path, column=name,
                            expected='e.g. arch = { resnet = { filters = 32 } }')
        return
    want = "whole number" if name == "seq_len" else kind(example)
    ok = kind(value) == want or (want == "number" and kind(value) == "whole number")
    if not ok:
        raise DataError(f"grid value {name} = {value!r} is not a {want}", file=path, column=name,
                        expected=f"a {want}" + (f", e.g. {name} = {example!r}".replace("'", '"')
                                                if example is not None else ""))


@dataclass(frozen=True)
class GridEntry:
    config: ClustererConfig
    skipped: str | None = None  # the reason, for combinations the registries reject


def expand(grid: Grid) -> list[GridEntry]:
    """Every configuration of the grid, deduplicated, with incompatible ones marked skipped."""
    entries: dict[str, GridEntry] = {}
    for ae, pre, clu, k in itertools.product(grid.autoencoder, grid.pretext, grid.clustering, grid.k):
        try:
            comp = HEADS.get(clu)
        except UnknownComponentError as exc:
            raise FthcError(f"grid: {exc}") from None
        distances = grid.distance if comp.flag("uses_distance") else ("eucl",)
        reductions = grid.reduction if comp.flag("uses_reduction") else ("none",)
        for dist, red in itertools.product(distances, reductions):
            cfg = ClustererConfig(
                EncoderConfig(autoencoder=ae, pretext=pre, latent_dim=grid.latent_dim, arch=grid.arch.get(ae, {}),
                              pretrain_batches=grid.pretrain_batches, batch_size=grid.batch_size, lr=grid.lr),
                HeadConfig(clustering=clu, k=k, distance=dist, reduction=red, reduced_dim=grid.reduced_dim,
                           dtc_batches=grid.dtc_batches, dtc_lr=grid.dtc_lr))
            try:
                cfg.validate()
                entry = GridEntry(cfg)
            except UnknownComponentError as exc:
                raise FthcError(f"grid: {exc}") from None
            except IncompatibleConfigError as exc:
                entry = GridEntry(cfg, skipped=str(exc))
            entries.setdefault(cfg.key(), entry)
    return list(entries.values())


def run_seed(config: ClustererConfig, run_index: int) -> int:
    """The seed of run i: the config's seed plus the run index (same for every configuration of a grid)."""
    return int(config.seed) + int(run_index)
