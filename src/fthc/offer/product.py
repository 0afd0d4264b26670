"""The product a credit team offers, given as options or a small TOML file: every term a decision and its money
figures rest on, with stated defaults, checked once (one line per bad value)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from ..errors import DataError


@dataclass(frozen=True)
class Product:
    """An instalment loan (or a limit repaid in instalments).

    The largest repayment a customer is offered is the smaller of `repayment_share` of its typical monthly income
    less the loan payments it already makes, and the free cash flow of its typical month; the amount is what that
    repayment pays off over `term_months` at `annual_rate` (an annuity). `amount`: the amount the product lends
    (None: the largest affordable, up to `max_amount`); `min_amount`: below it nothing is offered; `max_grade`: the
    cut-off (None: every grade whose expected margin is positive). The default rate, 24% a year, is that of
    unsecured instalment credit to customers without a credit history; set the bank's own."""

    name: str = "instalment loan"
    term_months: int = 12
    annual_rate: float = 0.24
    repayment_share: float = 0.35
    loss_given_default: float = 0.6
    funding_cost: float = 0.05
    amount: float | None = None
    min_amount: float = 0.0
    max_amount: float | None = None
    max_grade: int | None = None

    def __post_init__(self):
        check = _Checker()
        for key in ("term_months", "annual_rate", "repayment_share", "loss_given_default", "funding_cost", "amount",
                    "min_amount", "max_amount", "max_grade"):
            value = getattr(self, key)
            check(value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                    and math.isfinite(value)), key, value, "a finite number")
        check(self.term_months == int(self.term_months) and 1 <= self.term_months <= 600, "term_months",
              self.term_months, "a whole number of months from 1 to 600")
        check(0 <= self.annual_rate < 5, "annual_rate", self.annual_rate, "a yearly rate from 0 to 5 (0.15 is 15%)")
        check(0 < self.repayment_share <= 1, "repayment_share", self.repayment_share,
              "a share of income above 0 and at most 1 (0.35 is 35%)")
        check(0 <= self.loss_given_default <= 1, "loss_given_default", self.loss_given_default,
              "a share of the exposure from 0 to 1")
        check(0 <= self.funding_cost < 5, "funding_cost", self.funding_cost, "a yearly rate from 0 to 5")
        check(self.amount is None or self.amount > 0, "amount", self.amount, "an amount above 0")
        check(self.min_amount >= 0, "min_amount", self.min_amount, "an amount of 0 or more")
        check(self.max_amount is None or self.max_amount > max(self.min_amount, 0), "max_amount", self.max_amount,
              "an amount above min_amount")
        check(self.max_grade is None or (self.max_grade == int(self.max_grade) and self.max_grade >= 1),
              "max_grade", self.max_grade, "a grade of 1 or more")
        check(self.amount is None or self.amount >= self.min_amount, "amount", self.amount,
              f"an amount of at least min_amount ({self.min_amount:g})")
        check(self.amount is None or self.max_amount is None or self.amount <= self.max_amount, "amount",
              self.amount, f"an amount of at most max_amount ({self.max_amount:g})" if self.max_amount else "")

    @property
    def monthly_rate(self) -> float:
        return self.annual_rate / 12

    def annuity_factor(self) -> float:
        """The amount one unit of monthly repayment pays off over the term."""
        r, n = self.monthly_rate, self.term_months
        return float(n) if r == 0 else (1 - (1 + r) ** -n) / r

    def unit_terms(self) -> "UnitTerms":
        """The repayment, interest if repaid and funding cost of lending 1 over the term (an annuity: funding is
        paid on the balance outstanding each month)."""
        r, n = self.monthly_rate, self.term_months
        k = np.arange(n)
        balance = (1 - k / n) if r == 0 else ((1 + r) ** n - (1 + r) ** k) / ((1 + r) ** n - 1)
        repayment = 1 / self.annuity_factor()
        return UnitTerms(repayment, n * repayment - 1, float(balance.sum()) * self.funding_cost / 12)

    def lendable(self, supported):
        """Whether a budget that supports `supported` (an amount, or an array of them) can be lent to: at least
        the smallest amount, and above nothing."""
        return supported >= max(self.min_amount, 1e-9)

    def funding_shortfall(self) -> str | None:
        """Where the rate does not cover the funding cost (no grade can pay), that in words; else None."""
        unit = self.unit_terms()
        if unit.interest > unit.funding:
            return None
        return f"the rate, {self.annual_rate:.1%} a year, does not cover the funding cost, {self.funding_cost:.1%}"

    def break_even_pd(self) -> float:
        """The default rate at which the expected margin is 0: (interest - funding) / (interest + LGD)."""
        u = self.unit_terms()
        return max((u.interest - u.funding) / (u.interest + self.loss_given_default), 0.0)

    def in_words(self) -> str:
        amount = "the largest affordable amount" if self.amount is None else f"{self.amount:,.0f}"
        cap = f" up to {self.max_amount:,.0f}" if self.max_amount is not None and self.amount is None else ""
        return (f"{self.name}: {amount}{cap} over {self.term_months} months at {self.annual_rate:.1%} a year; "
                f"repayment at most {self.repayment_share:.0%} of typical income less loan payments and at most "
                f"the typical month's free cash flow; loss given default {self.loss_given_default:.0%}, funding "
                f"{self.funding_cost:.1%} a year" + (f"; grades up to {self.max_grade}" if self.max_grade else ""))


@dataclass(frozen=True)
class UnitTerms:
    """Lending 1 over the product's term: the monthly repayment, the interest the repayments earn if repaid, the
    funding cost of the balance outstanding month by month."""

    repayment: float
    interest: float
    funding: float


class _Checker:
    def __call__(self, ok: bool, key: str, value, expected: str) -> None:
        if not ok or (isinstance(value, float) and math.isnan(value)):
            raise DataError(f"product option {key} = {value!r} is not valid", expected=expected)


FIELDS = {f.name: f for f in fields(Product)}
NUMBERS = {"term_months": int, "max_grade": int}


def read_product(path: str | Path | None = None, **options) -> Product:
    """A `Product` from a TOML file (a table of the fields, optionally under `[product]`) with `options` (not
    None) over it. An unknown key, or a value of the wrong kind, is one DataError naming the file and key."""
    import tomllib

    values: dict = {}
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError("product file not found", file=path) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise DataError(f"cannot read as TOML: {e}", file=path) from None
        values = data.get("product", data)
        if not isinstance(values, dict):
            raise DataError("[product] must be a table of the product's terms", file=path)
        beside = [k for k in data if k != "product"] if "product" in data else []
        if beside:
            raise DataError(f"{', '.join(repr(k) for k in beside)} outside [product]: the terms go in the [product] "
                            "table (or all at the top, without it)", file=path)
    values = {**values, **{k: v for k, v in options.items() if v is not None}}
    for key, value in values.items():
        if key not in FIELDS:
            raise DataError(f"unknown product option {key!r}", file=path,
                            expected="one of " + ", ".join(FIELDS))
        wanted = str if key == "name" else NUMBERS.get(key, float)
        ok = isinstance(value, str) if wanted is str else \
            isinstance(value, (int, float)) and not isinstance(value, bool) and \
            (wanted is float or float(value).is_integer())
        if not ok:
            raise DataError(f"product option {key} = {value!r} is not valid", file=path,
                            expected="text" if wanted is str else "a whole number" if wanted is int else "a number")
        values[key] = value if wanted is str else wanted(value)
    try:
        return replace(Product(), **values)
    except DataError as e:
        if path is None:
            raise
        raise DataError(str(e), file=path) from None
