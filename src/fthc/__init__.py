"""fthc: Financial Transaction History Clustering."""

__version__ = "0.1.0"
__all__ = ["Clusterer", "ClustererConfig", "preset", "__version__"]


def __getattr__(name: str):
    """Import the model layer (and PyTorch) only when it is used: `fthc data ...` starts fast."""
    if name == "Clusterer":
        from .estimator import Clusterer

        return Clusterer
    if name in ("ClustererConfig", "preset"):
        from . import config

        return getattr(config, name)
    raise AttributeError(f"module 'fthc' has no attribute {name!r}")
