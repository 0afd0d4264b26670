"""A fitted `Segmenter` as a model folder (manifest, checksums, arrays; no pickle) and back: `Segmenter.save`,
`Segmenter.load` and `fthc assign` use these. The folder keeps the Segmenter's parameters and its `SegmentModel`
(what scoring applies); a loaded Segmenter has that part only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import make_head
from ..errors import ArtefactError
from .segment_model import RiskAxis, SegmentModel
from .stability import Stability


# what a saved model does not keep: its fitted customers (saving them would copy the bank's data into the model)
NOT_KEPT = {"labels_": "assignments.csv", "profile_": "profile.csv", "risk_": "assignments.csv", "confidence_": "assignments.csv",
            "assignments_": "assignments.csv", "k_choice_": "k_choice.csv", "measures_": "the data, with assign",
            "outcome_check_": "risk.csv", "monthly_": "segments.html", "sums_": "the data, with assign"}


def params_of(seg) -> dict[str, Any]:
    """The constructor's parameters as JSON (the method is saved as the model's config)."""
    p = seg.get_params()
    p.pop("method")
    p["columns"] = seg.segment_model_.column_mapping
    p["ks"] = [min(seg.ks), max(seg.ks) + 1] if len(list(seg.ks)) else None
    if p.get("as_of") is not None:  # a date as ISO text (JSON has no dates)
        p["as_of"] = pd.Timestamp(p["as_of"]).isoformat()
    return p


def save(seg, folder) -> Path:
    from ..artefact import write_artefact
    from .tracking import reference_of

    seg.check_fitted()
    model = seg.segment_model_
    extra = {"segmenter": {"params": params_of(seg), "representation": model.representation,
                           "method": seg.method if isinstance(seg.method, str) else None,  # a preset's name
                           "window": model.window,  # the window read ("auto": the one chosen)
                           "names": {str(k): v for k, v in model.names.items()},
                           "descriptions": {str(k): v for k, v in model.descriptions.items()},
                           "currency": model.currency, "k_why": model.k_why,
                           "refits": len(model.stability.heads), "risk_weight": model.axis.weight,
                           "risk_scale": model.axis.scale,
                           "outcome_model": model.outcome_model is not None,
                           # what tracking compares later periods with: the fitted customers are not kept
                           "monitoring": reference_of(model, seg.risk_fit_, seg.fit_summary_)}}
    arrays = model.stability.arrays() | {f"features.{k}": v for k, v in model.feature_space.arrays().items()}
    arrays |= {"reasons.centres": model.reasons.centres, "reasons.segments": model.reasons.segments,
               "reasons.medians": model.reasons.medians.to_numpy(dtype=np.float64)}
    extra["segmenter"]["reasons_measures"] = list(model.reasons.medians.columns)
    if model.outcome_model is not None:  # JSON text (LightGBM's own text format inside): no pickle
        arrays["risk.estimator"] = np.array(json.dumps(model.outcome_model.to_dict()))
        extra["segmenter"] |= {"risk_center": model.axis.center,
                               # every customer with an outcome at fitting, learnt from or not: a credit history
                               "credit_history": model.credit_history.tolist()}
    return write_artefact(model.clusterer, folder, extra=extra, extra_arrays=arrays)


def load(cls, folder):
    """A saved Segmenter (its manifest and checksums are checked first; nothing is unpickled)."""
    from ..artefact import read_artefact

    art = read_artefact(folder)
    try:
        return _from_artefact(cls, art, folder)
    except ArtefactError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtefactError(f"{folder}: the model's segmenter part is incomplete or from another version "
                            f"({type(exc).__name__}: {exc}); refit it with `fthc segment`") from exc


def _from_artefact(cls, art, folder):
    from ..estimator import Clusterer
    from ..models.feature_encoder import FeatureEncoder
    from .reasons import Reasons

    if not art.extra or "segmenter" not in art.extra or art.config is None:
        raise ArtefactError(f"{folder}: a model saved without its segmenter (fthc 0.1, or `Clusterer.save`); "
                            "load it with fthc.Clusterer.load, or refit it with `fthc segment`")
    info = art.extra["segmenter"]
    params = dict(info["params"])
    params["ks"] = range(*params["ks"]) if isinstance(params.get("ks"), list) else cls().ks
    seg = cls(**params)
    seg.method = info.get("method") or art.config  # as given: a preset's name, or the config itself
    seg._not_kept = NOT_KEPT
    k = art.config.head.k
    feature_space = FeatureEncoder().load_arrays(
        {key[len("features."):]: v for key, v in art.extra_arrays.items() if key.startswith("features.")})
    outcome_model, center, credit_history = None, None, None
    if info.get("outcome_model"):
        from ..risk.estimator import RiskEstimator

        outcome_model = RiskEstimator.from_dict(json.loads(str(art.extra_arrays["risk.estimator"])))
        center = float(info["risk_center"])
        credit_history = pd.Index(info.get("credit_history", outcome_model.fold_.index))
    seg.segment_model_ = SegmentModel(
        clusterer=Clusterer.of_artefact(art),
        axis=RiskAxis(float(info.get("risk_weight") or 0), center, info.get("risk_scale")),
        stability=Stability.from_arrays(art.extra_arrays, lambda: make_head(art.config, k), k),
        feature_space=feature_space,
        reasons=Reasons.from_arrays(feature_space, art.extra_arrays, info["reasons_measures"], info["currency"]),
        names={int(k): v for k, v in info["names"].items()},
        descriptions={int(k): v for k, v in info["descriptions"].items()},
        k_why=info["k_why"], representation=info["representation"],
        min_history=seg.min_history, currency=info["currency"], window=info.get("window", params.get("window")),
        outcome_model=outcome_model, credit_history=credit_history, monitoring=info.get("monitoring"))
    seg.risk_fit_, seg.fit_summary_ = None, None  # not kept: they hold the fitted customers
    return seg
