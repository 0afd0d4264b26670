"""fthc: Financial Transaction History Clustering.

Segment a bank's customers by the behaviour in their transaction histories:

    import fthc
    seg = fthc.Segmenter(k="auto").fit(df)    # a transactions DataFrame, or the path of a Berka folder or a table
    seg.profile_                              # one row per segment (and one for all customers)
    seg.predict(new_df)                       # segments of new customers

Segmenter       the estimator: behaviour features (or the paper's autoencoders), segments, profiles, names, risk
Clusterer       the model inside it: an encoder and a clustering head built from one ClustererConfig
ClustererConfig a frozen, typed configuration; preset(name) gives the named ones (features, fthc, ...)
ColumnMapping   which columns of a transactions table hold what (customer_id, timestamp, amount, ...)
read_berka      the 8 tables of a Berka folder; load_source: any source as canonical transactions
thread_budget   `with fthc.thread_budget(2):` the threads a fit may use (default: FTHC_THREADS, or the CPUs)
"""

import os as _os

# before any library loads OpenMP: threads waiting for work sleep instead of spinning, so a pool left between
# phases (or one beside another process) takes no core (`fthc.threads`)
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.2.0"
__all__ = ["ArtefactError", "Clusterer", "ClustererConfig", "ColumnMapping", "DataError", "FthcError", "PRESETS",
           "Segmenter", "load_source", "preset", "read_berka", "thread_budget", "__version__"]

_WHERE = {  # name -> module: imported when first used, so `fthc data ...` starts fast and PyTorch loads only when
    # a network method is used
    "Segmenter": "fthc.segments.segmenter", "Clusterer": "fthc.estimator", "ClustererConfig": "fthc.config",
    "preset": "fthc.config", "PRESETS": "fthc.config", "ColumnMapping": "fthc.data.transactions",
    "read_berka": "fthc.data.berka", "load_source": "fthc.data.source", "DataError": "fthc.errors",
    "FthcError": "fthc.errors", "ArtefactError": "fthc.errors", "thread_budget": "fthc.threads",
}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'fthc' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
