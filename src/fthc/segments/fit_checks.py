"""What a fit warns about as it goes (and says in its notes): a k too large for the customers, segments under
the floor, a k that no longer reproduces in the space clustered with the risk axis."""

from __future__ import annotations

import numpy as np

from ..config import ClustererConfig, make_head
from ..errors import FthcWarning
from ..progress import agreeing
from .choice import recheck_k

SMALL_SEGMENTS = 10  # fewer customers than this per segment, on average, is warned about
SEGMENT_FLOOR = 5  # a segment of fewer customers is named in a warning: it describes nobody in particular


def noted_warning(notes: list):
    """`warn(text)`: a warning for the caller, and the same line in the outputs' `notes`."""
    import warnings

    def warn(text: str) -> None:
        warnings.warn(text, FthcWarning, stacklevel=4)
        notes.append(text)
    return warn


def risk_space_check(weight: float, space: np.ndarray, config: ClustererConfig, k: int, seed: int, notes: list,
                     warn) -> dict | None:
    """k was judged in the behaviour space; with a risk axis (`weight`) the head clusters another space, so k's
    prediction strength is measured again there, said in the notes, and warned about where it no longer
    reproduces."""
    if weight == 0 or k < 2:
        return None
    check = recheck_k(space, lambda kk, s: make_head(config.replace(seed=s), kk).starting_point(), k, seed=seed)
    said = (f"k={k} in the space clustered (behaviour with the risk axis at weight {weight:g}): "
            f"prediction strength {check['prediction_strength']:.2f} ± {check['prediction_strength_sd']:.2f}, "
            f"{check['verdict']}")
    if check["verdict"] == "reproduces":
        notes.append(said)
    else:
        warn(said + ": these segments are not reproducible; try another k, or --risk-weight 0")
    return check


def size_check(warn, k: int, customers: int) -> None:
    """A k too large for the customers is warned about before the fit."""
    if k > 1 and customers < SMALL_SEGMENTS * k:
        warn(f"k={k} for {customers:,} customers leaves about {customers / k:.0f} customers per segment: "
             "segments this small are neither describable nor reproducible; ask for at most "
             f"k={max(customers // SMALL_SEGMENTS, 1)}, or k='auto'")


def floor_check(labels, warn) -> None:
    """Segments under the floor (`SEGMENT_FLOOR` customers) are named, whatever k was asked."""
    sizes = labels.value_counts().sort_index()
    tiny = sizes[sizes < SEGMENT_FLOOR]
    if len(tiny):
        shown = ", ".join(f"{s} ({n})" for s, n in tiny.head(8).items()) + (", ..." if len(tiny) > 8 else "")
        warn(f"{len(tiny)} of {len(sizes)} segments {agreeing(len(tiny), 'holds', 'hold')} fewer than "
             f"{SEGMENT_FLOOR} customers (segment "
             f"(customers): {shown}): too few to describe or to reproduce; ask for a smaller k, or k='auto'")
