"""Fit a clusterer on all customers and turn it into segments: assignments, profiles, descriptions, risk,
plots; score new customers with a saved model; choose k when asked to."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import ClustererConfig, make_head
from ..data import SeriesSpec, build_series, load_source
from ..errors import DataError
from .profile import berka_context, customer_behaviour, describe, profile_segments
from .risk import default_rates, segment_auc


def choose_k(series, config: ClustererConfig, ks=range(2, 9), seeds=(0, 1)) -> tuple[int, pd.DataFrame, str, dict]:
    """Evaluate each k by latent silhouette, Davies-Bouldin and stability (ARI between seeds); pick the k with the
    best mean rank over the three, and say why. Each seed's encoder is fitted once and shared by every k; the
    fitted encoders are returned (seed -> encoder) so the final fit reuses them."""
    from sklearn.metrics import adjusted_rand_score

    from ..config import make_encoder
    from ..estimator import head_encoder
    from ..metrics import internal
    from ..models.inputs import as_inputs

    data = as_inputs(series)
    encoders = {s: make_encoder(config.replace(seed=s)).fit(data) for s in seeds}  # k does not change them
    latents = {s: encoders[s].transform(data) for s in seeds}  # one pass per seed, shared by every k
    rows = []
    for k in ks:
        labels, sil, dbi = [], [], []
        for s in seeds:
            head = make_head(config.replace(seed=s), k=k).fit(latents[s], encoder=encoders[s], data=data)
            encoder = head_encoder(head, encoders[s])
            z = latents[s] if encoder is encoders[s] else encoder.transform(data)
            met = internal(z, head.labels_, seed=s)
            labels.append(head.labels_)
            sil.append(met["silhouette"])
            dbi.append(met["davies_bouldin"])
        stab = np.mean([adjusted_rand_score(labels[i], labels[j]) for i in range(len(seeds))
                        for j in range(i + 1, len(seeds))]) if len(seeds) > 1 else np.nan
        rows.append({"k": k, "silhouette": np.nanmean(sil), "davies_bouldin": np.nanmean(dbi), "stability": stab})
    table = pd.DataFrame(rows).set_index("k")
    ranks = pd.DataFrame({"silhouette": table["silhouette"].rank(ascending=False),
                          "davies_bouldin": table["davies_bouldin"].rank(ascending=True),
                          "stability": table["stability"].rank(ascending=False)})
    table["mean_rank"] = ranks.mean(axis=1)
    best = int(table["mean_rank"].idxmin())
    r = table.loc[best]
    why = (f"k={best}: best mean rank over silhouette ({r['silhouette']:.3f}, rank {ranks.loc[best, 'silhouette']:.0f}), "
           f"Davies-Bouldin ({r['davies_bouldin']:.2f}, rank {ranks.loc[best, 'davies_bouldin']:.0f}) and stability "
           f"between seeds (ARI {r['stability']:.2f}, rank {ranks.loc[best, 'stability']:.0f}) among k in "
           f"{list(table.index)}")
    return best, table, why, encoders


def segment(path: Path, out: Path, config: ClustererConfig, k: int | str = "auto", representation: str = "amounts",
            mapping=None, lenient: bool = False, ks=range(2, 9)) -> dict:
    """Fit on all customers and write assignments, the model, profiles, risk separation and plots to `out`."""
    from ..estimator import Clusterer, FrozenEstimator

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    source = load_source(path, mapping, lenient=lenient)
    tx, berka = source.transactions, source.berka
    series = build_series(tx, SeriesSpec(representation))
    choice, encoders = None, {}
    if k == "auto":
        k, table, why, encoders = choose_k(series, config, ks)
        table.to_csv(out / "k_choice.csv")
        choice = why
    reuse = FrozenEstimator(encoders[config.seed]) if config.seed in encoders else None  # trained once
    model = Clusterer(config.replace(k=int(k)), encoder=reuse).fit(series)
    proba = model.predict_proba(series)
    labels = pd.Series(model.labels_, index=pd.Index(series.ids, name="customer_id"), name="segment")
    assignments = pd.DataFrame({"customer_id": series.ids, "segment": model.labels_,
                                "confidence": proba[np.arange(len(proba)), model.labels_]})
    assignments.to_csv(out / "assignments.csv", index=False)
    model.save(out / "model")
    behaviour = customer_behaviour(tx)
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

    plot_typical_series(series, model.labels_, out / "segments.png")
    plot_profile(profile, out / "profile.png")
    _write_markdown(out, profile, descriptions, risk, auc, baseline_auc, choice, model)
    return {"k": int(k), "out": out, "profile": profile, "risk": risk, "auc": auc, "baseline_auc": baseline_auc,
            "k_choice": choice, "degenerate": model.degenerate_}


def _summary_kmeans_auc(tx, default, k, seed) -> float:
    from sklearn.cluster import KMeans

    from ..features import standardise, summary_features

    f = summary_features(tx)
    lab = pd.Series(KMeans(k, n_init=10, random_state=seed).fit_predict(standardise(f)), index=f.index)
    return segment_auc(lab, default)


def _write_markdown(out, profile, descriptions, risk, auc, baseline_auc, choice, model) -> None:
    lines = [f"# Customer segments ({len(profile)} segments, {int(profile['customers'].sum()):,} customers)", "",
             f"Model: {model!r}; degenerate: {model.degenerate_}.", ""]
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
    tx = load_source(path, mapping, lenient=lenient).transactions
    spec = replace(model.series_spec_, seq_len=model.seq_len_)
    series = build_series(tx, spec, scaling=model.series_scaling_ or None)
    if series.channels != model.channels_:
        raise DataError(f"{path}: series channels {series.channels} differ from the model's {model.channels_}")
    proba = model.predict_proba(series)
    labels = proba.argmax(1)
    result = pd.DataFrame({"customer_id": series.ids, "segment": labels, "confidence": proba.max(1)})
    if out is not None:
        result.to_csv(out, index=False)
    return result
