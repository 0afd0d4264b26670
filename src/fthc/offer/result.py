"""What `fthc offer` and `Segmenter.offer` give: the offers, the strategy table and the needs, from one set of
assignments."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..risk.grades import Grades
from .decisions import offers
from .needs import needs
from .product import Product
from .strategy import GROUPS, Strategy, strategy


@dataclass(frozen=True)
class OfferResult:
    product: Product
    offers: pd.DataFrame  # per customer (`fthc.offer.decisions.OFFER_COLUMNS`)
    strategy: Strategy
    needs: pd.DataFrame  # per segment and 'all'
    grades: Grades
    currency: str | None = None
    notes: tuple[str, ...] = ()  # what the figures must be read with

    def offered(self, group: str = "all") -> dict:
        """What the decisions do for `group` ('no credit history': no outcome known at fitting; 'all'):
        customers scored, offered credit (in full or smaller), their mean PD and its range, amount lent,
        expected loss and margin."""
        o = self.offers
        part = o[GROUPS[group](o)]
        scored, lent = part[part["risk_grade"] > 0], part[part["decision"] != "decline"]
        n = len(lent)
        return {"scored": len(scored), "offered": n, "share": n / len(scored) if len(scored) else float("nan"),
                "bad_rate": lent["pd"].mean() if n else float("nan"),
                "bad_rate_low": lent["pd_low"].mean() if n else float("nan"),
                "bad_rate_high": lent["pd_high"].mean() if n else float("nan"),
                "amount": float(lent["amount"].sum()), "expected_loss": float(lent["expected_loss"].sum()),
                "expected_margin": float(lent["expected_margin"].sum())}

    def offered_text(self, group: str = "all") -> str | None:
        """`offered(group)` in one sentence, as `fthc offer` prints it and the page shows it (None where the group
        has no one scored)."""
        q = self.offered(group)
        if not q["scored"]:
            return None
        return (f"{q['offered']:,} of {q['scored']:,} offered credit ({q['share']:.0%}), expected bad rate "
                f"{q['bad_rate']:.1%} (range {q['bad_rate_low']:.1%}-{q['bad_rate_high']:.1%}), lent "
                f"{q['amount']:,.0f}, expected loss {q['expected_loss']:,.0f}, margin {q['expected_margin']:,.0f}")

    def why_none(self) -> str | None:
        """Why no customer is offered credit, in one line (None where some are)."""
        o, p = self.offers, self.product
        if (o["decision"] != "decline").any():
            return None
        if p.funding_shortfall():
            return f"{p.funding_shortfall()}, over the term: no grade pays"
        scored = o[o["risk_grade"] > 0]
        lendable = scored[p.lendable(scored["supported_amount"])]
        if not len(lendable):
            return ("no customer's budget supports " + (f"the smallest amount, {p.min_amount:,.0f}" if p.min_amount
                                                       else "a repayment"))
        if p.max_grade is not None and (lendable["risk_grade"] > p.max_grade).all():
            return f"no customer whose budget supports a loan is in grades up to {p.max_grade}"
        return f"every grade's default rate is above the {p.break_even_pd():.1%} these terms break even at"

    def counts(self) -> pd.Series:
        """Customers per decision, in the order offer, smaller amount, decline."""
        return self.offers["decision"].value_counts().reindex(["offer", "offer a smaller amount", "decline"],
                                                              fill_value=0)


def make_offer(assignments: pd.DataFrame, grades: Grades, product: Product, currency: str | None = None,
               notes: tuple[str, ...] = ()) -> OfferResult:
    """Offers, strategy (over every grade of the scale) and needs of the customers of `assignments` (with their
    risk and affordability columns); `notes`, the caller's, are followed by what the data and the product make
    the figures need said."""
    from ..errors import DataError

    if product.max_grade is not None and product.max_grade > len(grades.table):
        raise DataError(f"product option max_grade = {product.max_grade} is not valid",
                        expected=f"a grade of the master scale, 1 to {len(grades.table)}")
    notes = tuple(notes)
    if assignments["commitments"].isna().all():
        notes += ("the data has no transaction kinds: loan payments already made are unknown and taken as 0, so the "
                  "affordability of customers who already borrow is overstated",)
    if product.term_months > 24:
        notes += (f"a {product.term_months}-month term: the default rates are those of the credits the outcomes "
                  "describe; a longer term defaults more, so the expected loss is understated unless they are as "
                  "long",)
    o = offers(assignments, grades, product)
    return OfferResult(product, o, strategy(o, list(grades.table.index), product), needs(assignments), grades,
                       currency, notes)
