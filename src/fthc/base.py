"""What every fthc estimator shares: scikit-learn's BaseEstimator, a fitted-state check that raises fthc's
NotFittedError, and a reset so that a refit starts clean."""

from __future__ import annotations

from sklearn.base import BaseEstimator

from .errors import NotFittedError


class FthcEstimator(BaseEstimator):
    fitted_attribute = ""  # the attribute that exists once fit has run

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, self.fitted_attribute)

    def check_fitted(self) -> None:
        if not self.__sklearn_is_fitted__():
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit first")

    def __getattr__(self, name: str):
        """A fitted attribute a loaded model does not keep says so, and where the fit wrote it."""
        where = self.__dict__.get("_not_kept", {}).get(name)
        if where is not None:
            raise AttributeError(f"{type(self).__name__}.{name}: a loaded model keeps what scoring needs, not the "
                                 f"customers it was fitted on; the fit wrote them to {where} in its results folder "
                                 "(or call assign on the data)")
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _reset(self) -> None:
        """Drop every fitted attribute (name ending in `_`): a refit keeps nothing of the last fit."""
        for name in [n for n in vars(self) if n.endswith("_") and not n.startswith("__")]:
            delattr(self, name)
