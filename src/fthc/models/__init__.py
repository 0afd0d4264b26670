"""Autoencoders, embeddings and pretext losses, each family a registry."""

from .autoencoders import AUTOENCODERS
from .embeddings import EMBEDDINGS
from .losses import PRETEXT_LOSSES

__all__ = ["AUTOENCODERS", "EMBEDDINGS", "PRETEXT_LOSSES"]
