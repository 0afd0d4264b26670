"""Pretext encoders (autoencoders with their pretext losses, contrastive), each family a registry."""

from .autoencoders import AUTOENCODERS
from .embeddings import EMBEDDINGS
from .contrastive import ContrastiveEncoder  # noqa: F401  (registers 'contrastive')
from .encoders import ENCODERS
from .losses import PRETEXT_LOSSES

__all__ = ["AUTOENCODERS", "EMBEDDINGS", "ENCODERS", "PRETEXT_LOSSES"]
