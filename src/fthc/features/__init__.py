"""Behaviour measures per customer, each defined once (`measures`), computed by an engine (DuckDB by default,
Spark, or the pandas reference), and the features the default model and the summary baseline are made of."""

from .measures import MEASURES, SUMS, Available, available, measures
from .model_features import (FEATURE_NAMES, MODEL_FEATURES, SUMMARY_FEATURES, model_features, standardise,
                             summary_features, usable_features)

__all__ = ["FEATURE_NAMES", "MEASURES", "MODEL_FEATURES", "SUMMARY_FEATURES", "SUMS", "Available", "available",
           "measures", "model_features", "standardise", "summary_features", "usable_features"]
