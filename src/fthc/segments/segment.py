"""Fit a clusterer on all customers and turn it into segments: assignments, profiles, descriptions, risk,
plots; score new customers with a saved model; choose k when asked to."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..clustering import HEADS
from ..config import ClustererConfig, make_head
from ..data import SeriesSpec, build_series, load_source
from ..data.source import Source
from ..errors import DataError
from ..progress import announce, report
from .profile import berka_context, customer_behaviour, describe, profile_segments
from .risk import default_rates, segment_auc


STRONG = 0.8  # prediction strength from which a partition counts as reproducible (Tibshirani & Walther: 0.8-0.9)


def prediction_strength(a: np.ndarray, b: np.ndarray) -> float:
    """How well partition `b` reproduces partition `a`: for each segment of `a`, the share of its pairs of
    customers that `b` also puts together; the weakest segment counts (a segment split in two scores low even
    when the rest of the partition agrees)."""
    table = pd.crosstab(a, b).to_numpy().astype(np.float64)
    sizes = table.sum(1)
    together = (table * (table - 1)).sum(1) / np.maximum(sizes * (sizes - 1), 1)
    return float(together[sizes > 1].min()) if (sizes > 1).any() else 1.0


def choose_k(series, config: ClustererConfig, ks=range(2, 9), seeds=None, resamples: int = 6,
             strong: float = STRONG) -> tuple[int, pd.DataFrame, str, dict]:
    """The largest k whose segments reproduce: the prediction strength between fits of the head across encoder
    seeds and on 80% resamples of the customers (mean over pairs, both directions) is at least `strong`; if no
    k reaches it, the strongest. Silhouette and Davies-Bouldin (which favour k = 2 on overlapping segments) are
    reported beside it. Each seed's encoder is trained once, shared by every k and resample, and returned
    (seed -> encoder) so that the final fit reuses it.

    Seeds default to `config.seed` and the next one. A head that fine-tunes the encoder (DTC) is judged on the
    partition it starts from (fitted for 0 batches), over resamples of one encoder (`config.seed`'s): judging
    fine-tuned partitions would cost one fine-tuning per k and resample (~45 s each for the paper's preset on
    4,500 customers) and a second encoder seed one more paper pretext (~4.6 min). The fine-tuning then moves
    the chosen partition (ARI 0.70-0.88 between start and end at k = 2-8, measured on hard synthetic data)."""
    from itertools import permutations

    from sklearn.metrics import adjusted_rand_score

    from ..config import make_encoder
    from ..metrics import internal
    from ..models.inputs import as_inputs

    data = as_inputs(series)
    n = len(data)
    if seeds is None:
        seeds = (config.seed,) if refines(config) else (config.seed, config.seed + 1)
    seeds = tuple(seeds)
    ks = [k for k in ks if 2 <= k < n]
    if not ks:
        raise DataError(f"{n} customers are too few to choose k: at least 3 are needed")
    announce(f"choosing k among {ks}: {'one encoder' if len(seeds) == 1 else f'encoders of seeds {list(seeds)}'}, "
             f"then every k on {resamples} resamples")
    encoders = {s: make_encoder(config.replace(seed=s)).fit(data) for s in seeds}  # k does not change them
    latents = {s: encoders[s].transform(data) for s in seeds}  # one pass per seed, shared by every k
    distinct = len(np.unique(np.round(latents[seeds[0]], 6), axis=0))
    if distinct < 2:
        raise DataError(f"all {n} customers have the same behaviour (one point in the latent space): there is "
                        "nothing to segment")
    ks = [k for k in ks if k <= distinct] or [distinct]  # more segments than distinct customers cannot exist
    rng = np.random.default_rng(config.seed)
    subsets = [np.sort(rng.choice(n, max(int(0.8 * n), 2), replace=False)) for _ in range(resamples)]
    rows = []
    for i, k in enumerate(ks):
        report("choosing k", i + 1, len(ks))
        labels, sil, dbi = [], [], []
        for s in seeds:
            head = make_head(config.replace(seed=s), k).starting_point()
            head.fit(latents[s], encoder=encoders[s], data=data)
            met = internal(latents[s], head.labels_, seed=s)
            labels.append(head.labels_)
            sil.append(met["silhouette"])
            dbi.append(met["davies_bouldin"])
        first, encoder = latents[seeds[0]], encoders[seeds[0]]
        for r, idx in enumerate(subsets):  # the head refitted on resampled customers predicts every customer
            head = make_head(config.replace(seed=config.seed + 1 + r), min(k, len(idx) - 1)).starting_point()
            labels.append(head.fit(first[idx], encoder=encoder, data=data.subset(idx)).predict(first))
        pairs = list(permutations(labels, 2))
        rows.append({"k": k, "prediction_strength": np.mean([prediction_strength(a, b) for a, b in pairs]),
                     "stability_ari": np.mean([adjusted_rand_score(a, b) for a, b in pairs]),
                     "silhouette": np.nanmean(sil), "davies_bouldin": np.nanmean(dbi)})
    table = pd.DataFrame(rows).set_index("k")
    strong_ks = table.index[table["prediction_strength"] >= strong]
    best = int(strong_ks.max()) if len(strong_ks) else int(table["prediction_strength"].idxmax())
    r = table.loc[best]
    how = (f"the largest k whose segments reproduce (prediction strength >= {strong})" if len(strong_ks) else
           f"no k reached prediction strength {strong}: the strongest")
    started = " (each at the partition it starts from, before fine-tuning)" if refines(config) else ""
    why = (f"k={best}: {how}; prediction strength {r['prediction_strength']:.2f}, ARI {r['stability_ari']:.2f} "
           f"(between {len(labels)} fits{started}: "
           f"{len(seeds)} encoder seed{'s' if len(seeds) > 1 else ''}, {len(subsets)} resamples of 80% of the "
           "customers), silhouette "
           f"{r['silhouette']:.3f}, Davies-Bouldin {r['davies_bouldin']:.2f}, among k in {list(table.index)}")
    return best, table, why, encoders


def refines(config: ClustererConfig) -> bool:
    return HEADS.get(config.head.clustering).flag("refines_encoder")


MAX_STEPS = 1000  # a segment run's series keep each customer's latest 1,000 steps (memory grows with the longest)
SHORT_HISTORY = 3  # customers with fewer transactions are segmented like the others and flagged


SAMPLE_CUSTOMERS = 200_000  # a partitioned dataset is fitted on about this many customers, then all are scored


def segment(path: Path, out: Path, config: ClustererConfig, k: int | str = "auto", representation: str = "amounts",
            mapping=None, lenient: bool = False, ks=range(2, 9), sample: int = SAMPLE_CUSTOMERS,
            rows_per_bucket: int = 2_000_000) -> dict:
    """Fit and write assignments, the model, profiles, risk separation and plots to `out`. A table or Berka
    folder is fitted on all its customers; a partitioned Parquet dataset (a folder or glob of files) is split
    into customer buckets on disk, fitted on whole buckets until about `sample` customers (a hash-random
    sample), and every customer is then scored and profiled bucket by bucket."""
    try:
        return _segment(path, out, config, k, representation, mapping, lenient, ks, sample, rows_per_bucket)
    finally:  # a partitioned dataset's spilled copy goes, whether the run succeeded or not
        shutil.rmtree(Path(out) / ".buckets", ignore_errors=True)


def _segment(path, out, config, k, representation, mapping, lenient, ks, sample, rows_per_bucket) -> dict:
    from ..data.partitioned import bucket_transactions, is_partitioned
    from ..estimator import Clusterer, FrozenEstimator

    if k != "auto":  # a k that cannot be fitted fails before anything is read or written
        config.replace(k=int(k)).validate()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    announce(f"reading {path}")
    buckets, sampled = None, None
    if is_partitioned(path):
        spill = out / ".buckets"  # as large as the input: removed once every customer is scored
        buckets = bucket_transactions(path, spill, mapping, lenient=lenient, rows_per_bucket=rows_per_bucket)
        tx, sampled, sampled_buckets = _sample(buckets, sample)
        source = Source(tx, None, buckets.report)
    else:
        source = load_source(path, mapping, lenient=lenient)
    tx, berka = source.transactions, source.berka
    announce(f"building {representation} series of {tx['customer_id'].nunique():,} customers "
             f"({len(tx):,} transactions)")
    series = build_series(tx, SeriesSpec(representation, max_steps=MAX_STEPS))
    choice, encoders = None, {}
    if k == "auto":
        k, table, why, encoders = choose_k(series, config, ks)
        table.to_csv(out / "k_choice.csv")
        choice = why
    reuse = FrozenEstimator(encoders[config.seed]) if config.seed in encoders else None  # trained once
    announce(f"fitting k={k}" + (" (the encoder trained while choosing k is reused)" if reuse else ""))
    model = Clusterer(config.replace(k=int(k)), encoder=reuse).fit(series)
    model.column_mapping_ = mapping.to_dict() if mapping is not None and berka is None else None
    model.save(out / "model")  # with the column mapping: assign reads new tables the same way
    assignments, behaviour = _score(model, series, tx), customer_behaviour(tx)  # the fitted customers
    if buckets is not None:  # and every other customer, bucket by bucket (the sample's buckets are done)
        parts = [_score_bucket(model, buckets, i, path) for i in range(sampled_buckets, len(buckets.files))]
        shutil.rmtree(spill, ignore_errors=True)
        assignments = pd.concat([assignments, *(a for a, _ in parts)], ignore_index=True)
        behaviour = pd.concat([behaviour, *(b for _, b in parts)])
    assignments.to_csv(out / "assignments.csv", index=False)
    labels = assignments.set_index("customer_id")["segment"]
    announce("profiles, risk separation and plots")
    context = berka_context(berka, series.ids) if berka is not None else None
    profile = profile_segments(behaviour, labels, context)
    descriptions = describe(profile)
    profile["description"] = pd.Series(descriptions)
    profile.to_csv(out / "profile.csv")
    risk, auc, baseline_auc = None, None, None
    if context is not None and context["has_loan"].any():
        default = context["loan_default"]
        risk = default_rates(labels, default)
        risk.to_csv(out / "risk.csv")
        auc = segment_auc(labels, default)
        baseline_auc = _summary_kmeans_auc(tx, default, int(k), config.seed)
    from ..reports.segment_plots import plot_profile, plot_typical_series

    plot_typical_series(series, labels.reindex(series.ids).to_numpy(), out / "segments.png")
    plot_profile(profile, out / "profile.png")
    notes = source.report.warnings + history_notes(assignments["transactions"].to_numpy(), series)
    if sampled is not None:
        notes.insert(0, f"fitted on {sampled:,} of {buckets.customers:,} customers (whole hash buckets of "
                        f"customers: a random sample); every customer was scored and profiled")
    _write_markdown(out, profile, descriptions, risk, auc, baseline_auc, choice, model, notes)
    return {"k": int(k), "out": out, "profile": profile, "risk": risk, "auc": auc, "baseline_auc": baseline_auc,
            "k_choice": choice, "degenerate": model.degenerate_, "notes": notes}


def _score(model, series, tx: pd.DataFrame) -> pd.DataFrame:
    """Each customer's segment and confidence, with the number of transactions its series was built from."""
    history = tx.groupby("customer_id").size().reindex(series.ids).to_numpy()
    proba = model.predict_proba(series)
    labels = proba.argmax(1)
    return pd.DataFrame({"customer_id": series.ids, "segment": labels, "confidence": proba.max(1),
                         "transactions": history, "short_history": history < SHORT_HISTORY})


def model_series(model, tx: pd.DataFrame, source=None):
    """New customers' series built exactly as the model's were (its spec, length and scaling); `source` names
    the data in an error."""
    series = build_series(tx, replace(model.series_spec_, seq_len=model.seq_len_),
                          scaling=model.series_scaling_ or None)
    if series.channels != model.channels_:
        missing = sorted(set(model.channels_) - set(series.channels))
        raise DataError(f"series channels {series.channels} differ from the model's {model.channels_}"
                        + (f" (missing: {missing})" if missing else ""), file=source,
                        expected="the channels the model was fitted on (a model saved by another fthc version?)")
    return series


def _score_bucket(model, buckets, i: int, source,
                  behaviour: bool = True) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Assignments (and, for profiles, behaviour) of one bucket's customers, with the model's series settings."""
    tx = buckets.read(i)
    report("scoring buckets", i + 1, len(buckets.files))
    series = model_series(model, tx, source)
    return _score(model, series, tx), customer_behaviour(tx) if behaviour else None


def _sample(buckets, sample: int) -> tuple[pd.DataFrame, int, int]:
    """Whole buckets (customers are hashed into them, so they are random) until at least `sample` customers:
    their transactions, the number of customers and of buckets."""
    parts, n = [], 0
    for i in range(len(buckets.files)):
        parts.append(buckets.read(i))
        n += parts[-1]["customer_id"].nunique()
        if n >= sample:
            break
    return pd.concat(parts, ignore_index=True), n, len(parts)


def history_notes(history: np.ndarray, series) -> list[str]:
    """What the output must say about histories that were short or cut."""
    notes = []
    short = int((history < SHORT_HISTORY).sum())
    if short:
        notes.append(f"{short:,} customers have fewer than {SHORT_HISTORY} transactions: segmented like the others "
                     "from very little evidence (short_history in assignments.csv)")
    if series.report.get("truncated"):
        notes.append(f"{series.report['truncated']:,} customers have histories longer than {series.X.shape[2]:,} "
                     "steps: their latest steps were used")
    return notes


def _summary_kmeans_auc(tx, default, k, seed) -> float:
    from sklearn.cluster import KMeans

    from ..features import standardise, summary_features
    from ..features.reference import behaviour_sums

    f = summary_features(behaviour_sums(tx))
    lab = pd.Series(KMeans(k, n_init=10, random_state=seed).fit_predict(standardise(f)), index=f.index)
    return segment_auc(lab, default)


def _write_markdown(out, profile, descriptions, risk, auc, baseline_auc, choice, model, notes) -> None:
    lines = [f"# Customer segments ({len(profile)} segments, {int(profile['customers'].sum()):,} customers)", "",
             f"Model: {model!r}; degenerate: {model.degenerate_}.", ""]
    lines += [f"Note: {n}." for n in notes] + ([""] if notes else [])
    if choice:
        lines += [f"Choice of k: {choice}.", ""]
    lines += ["| segment | customers | description |", "| --- | --- | --- |"]
    lines += [f"| {s} | {int(profile.loc[s, 'customers']):,} | {descriptions[s]} |" for s in profile.index]
    lines += ["", "## Profile", "", "```", profile.drop(columns=["description"]).round(3).to_string(), "```", ""]
    if risk is not None:
        lines += ["## Risk separation (loan outcomes were not used for fitting)", "",
                  "```", risk.round(3).to_string(), "```", "",
                  f"Cross-validated AUC of scoring each customer by its segment's default rate: {auc:.3f} "
                  f"(k-means on summary features, same k: {baseline_auc:.3f}).", ""]
    lines += ["![typical series](segments.png)", "", "![profile](profile.png)", ""]
    (out / "segments.md").write_text("\n".join(lines))


def assign(model_dir: Path, path: Path, out: Path | None = None, mapping=None, lenient: bool = False) -> pd.DataFrame:
    """Score customers with a saved model and the same preprocessing (series spec, scaling, length)."""
    from ..estimator import Clusterer

    model = Clusterer.load(model_dir)
    if model.series_spec_ is None:
        raise DataError(f"{model_dir}: the model was fitted on raw arrays, not on a series built by fthc, so its "
                        "preprocessing cannot be repeated")
    if mapping is None and getattr(model, "column_mapping_", None):  # the columns the model was fitted with
        from ..data.transactions import ColumnMapping

        mapping = ColumnMapping.from_dict(model.column_mapping_)
    from ..data.partitioned import bucket_transactions, is_partitioned

    if is_partitioned(path):  # bucket by bucket: memory depends on the bucket size, not the data size
        import tempfile

        with tempfile.TemporaryDirectory(prefix="fthc-buckets-", dir=Path(out).parent if out else None) as tmp:
            buckets = bucket_transactions(path, tmp, mapping, lenient=lenient)
            result = pd.concat([_score_bucket(model, buckets, i, path, behaviour=False)[0]
                                for i in range(len(buckets.files))], ignore_index=True)
    else:
        announce(f"reading {path}")
        tx = load_source(path, mapping, lenient=lenient).transactions
        announce(f"building series of {tx['customer_id'].nunique():,} customers")
        series = model_series(model, tx, path)
        announce(f"scoring {len(series):,} customers")
        result = _score(model, series, tx)
    result = result[["customer_id", "segment", "confidence"]]
    if out is not None:
        result.to_parquet(out, index=False) if str(out).endswith(".parquet") else result.to_csv(out, index=False)
    return result
