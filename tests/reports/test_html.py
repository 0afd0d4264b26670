"""The pages' building blocks (`fthc.reports.html`): a page is its title and a list of sections, in order."""

import numpy as np
import pandas as pd
import pytest

from fthc.reports.html import CSS, Section, chart, esc, page, percent, table, wide


def test_a_page_is_its_title_and_its_sections_in_order():
    text = page("Risk & <returns>", [Section("first", "One", "<p>a</p>"), None,
                                     Section("summary", None, "<p class='sub'>b</p>")])
    assert text.startswith("<!doctype html>") and text.endswith("</main></body></html>")
    assert "<title>Risk &amp; &lt;returns&gt;</title>" in text and "<h1>Risk &amp; &lt;returns&gt;</h1>" in text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text
    assert f"<style>{CSS}</style>" in text and "<script" not in text
    assert ("<section id='first'><h2>One</h2><p>a</p></section><section id='summary'><p class='sub'>b</p>"
            "</section>") in text  # None (a section the page leaves out) is skipped; no title, no heading
    assert page("t", [], css="body{}").count("<style>body{}</style>") == 1


def test_two_sections_of_a_page_cannot_share_an_id():
    with pytest.raises(ValueError, match="share an id"):
        page("t", [Section("a", "A", ""), Section("a", "B", "")])


def test_a_table_formats_escapes_and_flags_its_cells():
    df = pd.DataFrame({"rate": [0.1234, np.nan], "name": ["<b>", "x"]}, index=pd.Index([1, 2]))
    text = table(df, {"rate": lambda v: percent(v, digits=0)}, index="segment",
                 flag=lambda c, v: c == "name" and v == "x")
    assert text == ("<table class='data'><tr><th>segment</th><th>rate</th><th>name</th></tr>"
                    "<tr><td>1</td><td>12%</td><td>&lt;b&gt;</td></tr>"
                    "<tr><td>2</td><td></td><td class='flag'>x</td></tr></table>")
    assert "<td>0.500</td>" in table(pd.DataFrame({"v": [0.5]}))  # floats: three decimals without a format


def test_a_chart_a_wide_table_and_escaping():
    assert chart("<svg></svg>", "a < b", "k") == ("<figure class='chart' data-chart='k'><svg></svg>"
                                                  "<figcaption>a &lt; b</figcaption></figure>")
    assert wide("<table></table>") == "<div style='overflow-x:auto'><table></table></div>"
    assert esc("it's") == "it&#x27;s" and esc(3) == "3"


def test_a_percentage_has_its_digits_and_a_missing_one_its_placeholder():
    assert percent(0.1234) == "12.3%" and percent(0.1234, digits=0) == "12%" and percent(1) == "100.0%"
    assert percent(np.nan) == "" and percent(None) == "" and percent(pd.NA, missing="-") == "-"
    assert percent(np.float64(0.005), digits=0, missing="-") == "0%"  # half-way rounds to even, as f"{v:.0%}" does
