"""A fitted `Segmenter` as a model folder (manifest, checksums, arrays; no pickle) and back: `Segmenter.save`,
`Segmenter.load` and `fthc assign` use these."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import make_head
from ..errors import ArtefactError
from .stability import Stability


# what a saved model does not keep: its fitted customers (saving them would copy the bank's data into the model)
NOT_KEPT = {"profile_": "profile.csv", "risk_": "assignments.csv", "confidence_": "assignments.csv",
            "assignments_": "assignments.csv", "k_choice_": "k_choice.csv", "measures_": "the data, with assign",
            "outcome_check_": "risk.csv", "monthly_": "segments.html", "sums_": "the data, with assign"}


def params_of(seg) -> dict[str, Any]:
    """The constructor's parameters as JSON (the method is saved as the model's config)."""
    p = seg.get_params()
    p.pop("method")
    p["columns"] = seg.column_mapping_
    p["ks"] = [min(seg.ks), max(seg.ks) + 1] if len(list(seg.ks)) else None
    if p.get("as_of") is not None:  # a date as ISO text (JSON has no dates)
        p["as_of"] = pd.Timestamp(p["as_of"]).isoformat()
    return p


def save(seg, folder) -> Path:
    from ..artefact import write_artefact
    from .scoring import credit_history
    from .tracking import reference_of

    seg.check_fitted()
    extra = {"segmenter": {"params": params_of(seg), "representation": seg.representation_,
                           "method": seg.method if isinstance(seg.method, str) else None,  # a preset's name
                           "window": seg.window_,  # the window read ("auto": the one chosen)
                           "names": {str(k): v for k, v in seg.names_.items()},
                           "descriptions": {str(k): v for k, v in seg.descriptions_.items()},
                           "currency": seg.currency_, "k_why": seg.k_why_,
                           "refits": len(seg.stability_.heads), "risk_weight": seg.risk_weight_,
                           "risk_scale": getattr(seg, "risk_scale_", None),
                           "outcome_model": seg.outcome_model_ is not None,
                           # what tracking compares later periods with: the fitted customers are not kept
                           "monitoring": reference_of(seg)}}
    arrays = seg.stability_.arrays() | {f"features.{k}": v for k, v in seg.feature_space_.arrays().items()}
    arrays |= {"reasons.centres": seg.reasons_.centres, "reasons.segments": seg.reasons_.segments,
               "reasons.medians": seg.reasons_.medians.to_numpy(dtype=np.float64)}
    extra["segmenter"]["reasons_measures"] = list(seg.reasons_.medians.columns)
    if seg.outcome_model_ is not None:  # JSON text (LightGBM's own text format inside): no pickle
        arrays["risk.estimator"] = np.array(json.dumps(seg.outcome_model_.to_dict()))
        extra["segmenter"] |= {"risk_center": seg.risk_center_,
                               # customers with an outcome not learnt from (too young, too thin): a credit history
                               "credit_history": credit_history(seg).tolist()}
    return write_artefact(seg.model_, folder, extra=extra, extra_arrays=arrays)


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
    seg.window_ = info.get("window", params.get("window"))
    model = Clusterer(art.config)
    model.encoder_, model.head_ = art.encoder, art.head
    model.series_spec_, model.series_scaling_, model.channels_ = art.series_spec, art.series_scaling, art.channels
    model.column_mapping_ = art.column_mapping
    seg.model_, seg.column_mapping_ = model, art.column_mapping
    seg.representation_, seg.currency_, seg.k_why_ = info["representation"], info["currency"], info["k_why"]
    seg.names_ = {int(k): v for k, v in info["names"].items()}
    seg.descriptions_ = {int(k): v for k, v in info["descriptions"].items()}
    k = art.config.head.k
    seg.stability_ = Stability.from_arrays(art.extra_arrays, lambda: make_head(art.config, k), k)
    seg.feature_space_ = FeatureEncoder().load_arrays(
        {key[len("features."):]: v for key, v in art.extra_arrays.items() if key.startswith("features.")})
    seg.risk_weight_, seg.risk_scale_ = float(info.get("risk_weight") or 0), info.get("risk_scale")
    seg.reasons_ = Reasons.from_arrays(seg.feature_space_, art.extra_arrays, info["reasons_measures"],
                                       seg.currency_)
    seg.outcome_model_ = None
    if info.get("outcome_model"):
        from ..risk.estimator import RiskEstimator

        seg.outcome_model_ = RiskEstimator.from_dict(json.loads(str(art.extra_arrays["risk.estimator"])))
        seg.risk_center_ = float(info["risk_center"])
        seg.credit_history_ = pd.Index(info.get("credit_history", seg.outcome_model_.fold_.index))
    seg.labels_ = pd.Series(np.zeros(0, dtype=np.int64), name="segment")  # fitted; its customers are not kept
    seg.monitoring_ = info.get("monitoring")
    return seg
