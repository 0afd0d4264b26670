"""Interpretable customer segments: profiles, factual descriptions, risk separation, and choosing k."""
