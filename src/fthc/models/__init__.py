"""Encoders: behaviour features (no network), and the paper's pretext encoders (autoencoders with their
pretext losses) and a contrastive one, each family a registry. The network families (PyTorch) are imported when
first used."""

from .registries import ENCODERS

__all__ = ["AUTOENCODERS", "EMBEDDINGS", "ENCODERS", "PRETEXT_LOSSES"]


def __getattr__(name: str):
    if name == "AUTOENCODERS":
        from .autoencoders import AUTOENCODERS

        return AUTOENCODERS
    if name == "EMBEDDINGS":
        from .embeddings import EMBEDDINGS

        return EMBEDDINGS
    if name == "PRETEXT_LOSSES":
        from .losses import PRETEXT_LOSSES

        return PRETEXT_LOSSES
    raise AttributeError(f"module 'fthc.models' has no attribute {name!r}")
