"""Reports: the paper's figures from a store, and segment plots."""
