"""What `fthc offer` and `Segmenter.offer` give: the offers, the strategy table and the needs, from one set of
assignments."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..risk.grades import Grades
from .decisions import offers
from .needs import needs
from .product import Product
from .strategy import Strategy, strategy


@dataclass(frozen=True)
class OfferResult:
    product: Product
    offers: pd.DataFrame  # per customer (`fthc.offer.decisions.OFFER_COLUMNS`)
    strategy: Strategy
    needs: pd.DataFrame  # per segment and 'all'
    grades: Grades
    currency: str | None = None
    notes: tuple[str, ...] = ()  # what the figures must be read with

    def counts(self) -> pd.Series:
        """Customers per decision, in the order offer, smaller amount, decline."""
        return self.offers["decision"].value_counts().reindex(["offer", "offer a smaller amount", "decline"],
                                                              fill_value=0)


def make_offer(assignments: pd.DataFrame, grades: Grades, product: Product, currency: str | None = None,
               notes: tuple[str, ...] = ()) -> OfferResult:
    """Offers, strategy (over every grade of the scale) and needs of the customers of `assignments` (with their
    risk and affordability columns)."""
    o = offers(assignments, grades, product)
    return OfferResult(product, o, strategy(o, list(grades.table.index), product), needs(assignments), grades,
                       currency, tuple(notes))
