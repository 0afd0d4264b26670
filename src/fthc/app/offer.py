"""`fthc offer` as a function: a saved model's offers for the customers of some data, written atomically with
the strategy table, the needs and the page, and the lines the command prints."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from ..offer.product import Product
from ..progress import counted
from ..offer.result import OfferResult
from .commands import loaded

FILES = ("offers.csv", "strategy.csv", "strategy_by_segment.csv", "needs.csv", "product.toml", "offers.html")


def product_toml(product: Product) -> str:
    """The product's terms as the TOML `--product` reads (unset options left out)."""
    lines = ["[product]"]
    for key, value in asdict(product).items():
        if value is not None:
            lines.append(f"{key} = {json.dumps(value)}")  # a TOML basic string or number
    return "\n".join(lines) + "\n"


def offer(model_dir: Path, data, out: Path, product: Product, mapping=None, lenient: bool = False,
          force: bool = False) -> OfferResult:
    """Offers for every customer of `data` with the saved model (`Segmenter.offer`), written into `out`."""
    from ..reports.offer_page import write_offer_page
    from ..reports.output_folder import check_output_folder, results_folder, write_table

    out = Path(out)
    check_output_folder(out, [Path(data), Path(model_dir)] if isinstance(data, (str, Path)) else [Path(model_dir)],
                        force)
    seg = loaded(model_dir, mapping, lenient)
    result = seg.offer(data, product)
    with results_folder(out, "offer", force) as tmp:
        write_table(result.offers, tmp / "offers.csv", index=True)
        write_table(result.strategy.table, tmp / "strategy.csv")
        write_table(result.strategy.by_segment, tmp / "strategy_by_segment.csv")
        write_table(result.needs, tmp / "needs.csv", index=True)
        (tmp / "product.toml").write_text(product_toml(product), encoding="utf-8")
        write_offer_page(result, tmp / "offers.html")
    return result


def summary_lines(r: OfferResult) -> list[str]:
    """What `fthc offer` prints: the decisions, the cut-off and what it does for customers without a credit
    history, and the segments most in need of savings or protection products."""
    c = r.counts()
    lines = [f"{r.product.in_words()}", *[f"note: {n}" for n in r.notes],
             f"{counted(len(r.offers), 'customer')}: {c['offer']:,} offered, {c['offer a smaller amount']:,} a smaller amount, "
             f"{c['decline']:,} declined (offers.csv, with reasons)"]
    why = r.why_none()
    if why:
        lines.append(f"no one is offered credit: {why}")
    else:
        lines += [f"{group}: {text}" for group in ("no credit history", "all") if (text := r.offered_text(group))]
    cutoff = r.strategy.cutoff
    lines.append(f"break-even default rate at these terms {r.product.break_even_pd():.1%}; "
                 + (f"the product's cut-off grade {cutoff} (grades whose margin is negative are declined all the "
                    "same)" if r.product.max_grade is not None else
                    f"the margin pays up to grade {cutoff}" if cutoff is not None else "no cut-off pays")
                 + " (strategy.csv: every cut-off)")
    n = r.needs.drop(index="all")
    if len(n):
        save, protect = n["steady_surplus_share"].idxmax(), n["protection_share"].idxmax()
        lines.append(f"savings: segment {save} ({n.loc[save, 'name']}) has the most with a steady surplus, "
                     f"{n.loc[save, 'steady_surplus_share']:.0%}, who could save {n.loc[save, 'could_save_per_month']:,.0f}"
                     f" a month in 9 of 10")
        if n["protection_share"].notna().any() and n.loc[protect, "protection_share"] > 0:
            lines.append(f"protection: segment {protect} ({n.loc[protect, 'name']}): "
                         f"{n.loc[protect, 'protection_share']:.0%} have under a month of buffer and months when "
                         "income stops or halves (needs.csv)")
    return lines
