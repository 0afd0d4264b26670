"""The building blocks of fthc's HTML pages (segments.html, tracks.html, offers.html, the grid report): one
stylesheet, escaping, a percentage, a data table, a chart's figure, a table that scrolls sideways, and the page
itself as a list of sections. Every page is self-contained: styles and charts inline, no script, nothing fetched
from the web.

A page is a list of `Section`s, each built by a small function of its own::

    sections = [summary(...), risk(...), notes(...)]        # a function may return None: no such section
    Path("page.html").write_text(page("Title", sections), encoding="utf-8")
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Callable, Iterable

import pandas as pd

CSS = """
:root { --ink: #1d2433; --muted: #5b6475; --line: #d9dde5; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
       margin: 0; background: var(--bg); }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid var(--line);
padding-bottom: 4px; } h3 { font-size: 15px; margin: 0 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 14px; }
.card { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
        border-top: 5px solid var(--c); break-inside: avoid; }
.card .size { color: var(--muted); font-size: 13px; margin-bottom: 8px; }
.card table { width: 100%; border-collapse: collapse; font-size: 13px; margin: 6px 0 8px; }
.card td { padding: 2px 0; border-bottom: 1px dotted var(--line); } .card td.v { text-align: right; font-weight: 600; white-space: nowrap; padding-left: 6px; }
.card td.p { text-align: right; color: var(--muted); white-space: nowrap; padding-left: 6px; }
.card p { margin: 6px 0 0; font-size: 13px; color: #333; }
.chip { display: inline-block; width: 11px; height: 11px; border-radius: 2px; background: var(--c); margin-right: 5px; }
figure.chart { background: white; border: 1px solid var(--line); border-radius: 8px; margin: 10px 0; padding: 10px;
               break-inside: avoid; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
table.data { border-collapse: collapse; background: white; font-size: 13px; margin: 8px 0; }
table.data th, table.data td { border: 1px solid var(--line); padding: 4px 8px; text-align: right; }
table.data th:first-child, table.data td:first-child { text-align: left; }
table.data th { background: #eef1f5; }
.flag { color: #a50f15; font-weight: 600; }
.good { background: #e6f4ea; }
.notes li { margin: 3px 0; } dl dt { font-weight: 600; margin-top: 6px; } dl dd { margin: 0 0 0 16px; color: #333; }
@media print { body { background: white; } main { padding: 0; } .card, figure.chart { border-color: #999; } }
"""
"""The pages' one stylesheet: a centred column, segment cards, chart figures, data tables (`table.data`), flags."""


def esc(x) -> str:
    """Any value as text safe inside HTML (quotes escaped too, so also inside an attribute)."""
    return html.escape(str(x))


def percent(value, digits: int = 1, missing: str = "") -> str:
    """A share as a percentage (0.123: '12.3%'), the one way every page writes one; `missing` where there is no
    value (None or NaN), so a table's gap reads blank or '-' as that table chooses."""
    return missing if pd.isna(value) else f"{value:.{digits}%}"


def table(df: pd.DataFrame, formats: dict[str, Callable] | None = None, index: str = "segment",
          flag: Callable[[str, object], bool] | None = None,
          row_class: Callable[[object], str | None] | None = None) -> str:
    """A data frame as a `table.data`: the index first, headed `index`; a column's values through its function in
    `formats` (else floats to 3 decimals, the rest as text); a cell where `flag(column, value)` is true in red; a
    row whose `row_class(index value)` names a class carries it, for a page's stylesheet to mark the whole row."""
    formats = formats or {}
    head = "".join(f"<th>{esc(c)}</th>" for c in [index, *df.columns])
    body = []
    for idx, row in df.iterrows():
        cells = [f"<td>{esc(idx)}</td>"]
        for c in df.columns:
            v = row[c]
            text = formats[c](v) if c in formats else (f"{v:,.3f}" if isinstance(v, float) else str(v))
            cls = " class='flag'" if flag and flag(c, v) else ""
            cells.append(f"<td{cls}>{esc(text)}</td>")
        name = row_class(idx) if row_class else None
        body.append((f"<tr class='{esc(name)}'>" if name else "<tr>") + "".join(cells) + "</tr>")
    return f"<table class='data'><tr>{head}</tr>{''.join(body)}</table>"


def chart(svg: str, caption: str, name: str) -> str:
    """An inline SVG chart in its figure with its caption; `name` (data-chart) lets a test or a reader find it."""
    return f"<figure class='chart' data-chart='{name}'>{svg}<figcaption>{esc(caption)}</figcaption></figure>"


def wide(table_html: str) -> str:
    """A table that scrolls sideways inside the page on a narrow window rather than running off it."""
    return f"<div style='overflow-x:auto'>{table_html}</div>"


@dataclass(frozen=True)
class Section:
    """One part of a page: `id` (its anchor, page.html#id), `title` (its heading; None: none, as for the
    summary under the page's title) and `html` (its content, already HTML)."""

    id: str
    title: str | None
    html: str

    def render(self) -> str:
        head = f"<h2>{esc(self.title)}</h2>" if self.title else ""
        return f"<section id='{esc(self.id)}'>{head}{self.html}</section>"


def page(title: str, sections: Iterable[Section | None], css: str = CSS) -> str:
    """A whole page: doctype, head (charset, title, viewport meta, the stylesheet) and a main column with the title
    as its heading and the sections in order (None, a section a page leaves out, is skipped)."""
    shown = [s for s in sections if s is not None]
    ids = [s.id for s in shown]
    if len(set(ids)) < len(ids):
        raise ValueError(f"two sections of one page share an id: {ids}")
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{esc(title)}</title>"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{css}</style></head>"
            f"<body><main><h1>{esc(title)}</h1>{''.join(s.render() for s in shown)}</main></body></html>")


__all__ = ["CSS", "Section", "chart", "esc", "page", "percent", "table", "wide"]
