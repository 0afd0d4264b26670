"""fthc: Financial Transaction History Clustering."""

__version__ = "0.1.0"
