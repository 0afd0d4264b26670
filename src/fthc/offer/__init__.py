"""From risk to an offer: what each customer can afford, the loan or limit that supports, its expected loss and
margin, a decision with its reason, the strategy table of grade cut-offs, and each segment's savings and
protection needs. Functions of frames (assignments, the master scale) and a `Product`; never a Segmenter."""

from .affordability import AFFORDABILITY, affordability
from .decisions import offers
from .needs import needs
from .product import Product, read_product
from .result import OfferResult, make_offer
from .strategy import Strategy, strategy

__all__ = ["AFFORDABILITY", "OfferResult", "Product", "Strategy", "affordability", "make_offer", "needs", "offers",
           "read_product", "strategy"]
