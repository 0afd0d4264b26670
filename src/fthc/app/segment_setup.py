"""`fthc segment`'s inputs from its options: the method (a preset, or a config from a JSON file's fields and the
options that override it), the Segmenter, the outcomes and where Spark runs."""

from __future__ import annotations

from ..segments.segmenter import Segmenter


def segment_method(preset_name: str, fields: dict | None = None, *, seed: int = 0, pretrain_batches: int | None = None,
                   precision: str | None = None):
    """The method and the k it states: a config from a --config file's `fields` (its k), else the preset, as a
    config where an option overrides it (else by name) and k 'auto'."""
    from ..config import ClustererConfig, preset

    overrides = {}
    if pretrain_batches is not None:
        overrides["pretrain_batches"] = pretrain_batches
    if precision is not None:
        overrides["precision"] = precision
    if fields is not None:
        config = ClustererConfig.from_dict(fields).replace(**overrides | {"seed": seed}).validate()
        return config, config.head.k  # a config file states its k; the --k flag overrides it
    config = preset(preset_name, **overrides | {"seed": seed})
    return (config if overrides else preset_name), "auto"


def build_segmenter(method, k=None, *, stated_k="auto", **options) -> Segmenter:
    """The Segmenter of `method` with k (else the k the method states) and the other options as they are."""
    return Segmenter(k=stated_k if k is None else k, method=method, **options)


def outcome_source(outcomes: str | None, id_col: str = "customer_id", outcome_col: str = "default",
                   date_col: str | None = None):
    """--outcomes: None, 'loans' (a Berka folder's), or the file and its columns."""
    if outcomes is None or outcomes == "loans":
        return outcomes
    from ..risk.outcomes import OutcomeFile

    return OutcomeFile(outcomes, id_col, outcome_col, date_col)


def use_spark_master(engine: str, master: str | None) -> None:
    """The Spark master the spark engine starts on (`FTHC_SPARK_MASTER`), where one is given."""
    if engine == "spark" and master:
        import os

        os.environ["FTHC_SPARK_MASTER"] = master
