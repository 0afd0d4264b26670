"""The grid report (`fthc report`): the ranking of configurations, the margins of its page at 800 and 1,400 px, a
line instead of an empty chart of degenerate runs, and fthc's default method beside the paper's grid."""

import html
import re

import numpy as np
import pandas as pd
import pytest

from fthc.reports.grid_report import best_table


def runs(with_truth: bool) -> pd.DataFrame:
    """Two configurations: one with a well-separated latent space that recovers nothing, one that recovers the
    planted segments with a lower silhouette (what synthetic Berka shows)."""
    rows = []
    for label, sil, ari in (("resnet+mse+kmeans", 0.6, 0.05), ("features", 0.2, 0.5)):
        for run in range(3):
            rows.append({"label": label, "k": 6, "status": "done", "test_input_silhouette": sil + 0.01 * run,
                         "test_input_davies_bouldin": 1.0, "test_ari": ari if with_truth else np.nan})
    return pd.DataFrame(rows)


def test_configurations_are_ranked_by_ari_where_there_are_planted_segments():
    best = best_table(runs(with_truth=True))
    assert best["configuration"].tolist() == ["features", "resnet+mse+kmeans"]
    assert best["valid runs"].tolist() == [3, 3]


def test_without_planted_segments_the_silhouette_ranks():
    best = best_table(runs(with_truth=False))
    assert best["configuration"].tolist() == ["resnet+mse+kmeans", "features"]


def test_the_report_links_the_segment_page_relative_to_itself(tmp_path):
    from fthc.experiments.store import open_store
    from fthc.reports.grid_report import write_report

    with open_store(str(tmp_path / "grid.db")) as store:
        write_report(store, tmp_path / "out" / "report", segments_page=tmp_path / "out" / "segments" / "segments.html")
        page = (tmp_path / "out" / "report" / "report.html").read_text()
        assert '<a href="../segments/segments.html">' in page
        assert "](../segments/segments.html)" in (tmp_path / "out" / "report" / "report.md").read_text()
        write_report(store, tmp_path / "alone")
        assert "segments.html" not in (tmp_path / "alone" / "report.html").read_text()


def finished_store(path, default: bool, invalid: bool):
    """A store whose runs are recorded without training: the paper's `fthc` and `fcnn` presets and, where asked,
    fthc's default `features`, two runs each at k=4 with test metrics (the default's ARI highest, as on synthetic
    Berka); where asked, one run of `fcnn` degenerate."""
    from fthc.config import preset
    from fthc.experiments.grid import Grid, GridEntry
    from fthc.experiments.store import open_store

    scores = {"fthc": (0.30, 1.2, 0.20), "fcnn": (0.25, 1.4, 0.10), "features": (0.20, 1.6, 0.60)}
    names = [n for n in scores if default or n != "features"]
    store = open_store(str(path))
    store.init_grid([GridEntry(preset(n, k=4)) for n in names], 2, Grid().to_dict())
    while (run := store.claim("w", 60)) is not None:
        name = next(n for n in names if preset(n, k=4).to_dict()["autoencoder"] == run.config["autoencoder"])
        sil, dbi, ari = scores[name]
        status = "invalid" if invalid and name == "fcnn" and run.run_index == 0 else "done"
        test = {"input_silhouette": sil + 0.01 * run.run_index, "input_davies_bouldin": dbi, "ari": ari}
        assert store.finish(run.id, "w", status, metrics={"train": test, "test": test}, train_seconds=1.0)
    return store


def written(tmp_path, default: bool, invalid: bool) -> tuple[str, str]:
    """report.html and report.md of a finished store."""
    from fthc.reports.grid_report import write_report

    with finished_store(tmp_path / "grid.db", default, invalid) as store:
        write_report(store, tmp_path / "report")
    return (tmp_path / "report" / "report.html").read_text(), (tmp_path / "report" / "report.md").read_text()


def test_the_page_keeps_a_margin_and_a_readable_width(tmp_path):
    import re

    page, _ = written(tmp_path, default=False, invalid=False)
    body = re.search(r"body\{([^}]*)\}", page).group(1)
    rules = dict(r.split(":", 1) for r in body.split(";"))
    assert rules["max-width"].endswith("px") and int(rules["max-width"][:-2]) <= 1200
    top, sides, *_ = rules["padding"].split()
    assert int(sides.removesuffix("px")) >= 16  # at 800 px the text stays off the window's edges
    assert rules["margin"] == "0 auto" and '<meta name="viewport"' in page


@pytest.mark.parametrize("width", [1400, 800])
def test_the_page_in_a_real_browser_has_margins(tmp_path, width):
    """Nothing touches the window's edges at 800 px, and at 1,400 px the column is centred, not stretched."""
    from .test_segment_page import CHROMIUM

    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is a dev extra: pip install playwright")
    written(tmp_path, default=True, invalid=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto((tmp_path / "report" / "report.html").absolute().as_uri())
        boxes = page.eval_on_selector_all("h1, h2, p, table, img", """es => es.map(e => {
            const b = e.getBoundingClientRect(); return [b.left, b.right]; })""")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        browser.close()
    assert scroll <= width and len(boxes) > 10
    left, right = min(b[0] for b in boxes), max(b[1] for b in boxes)
    assert left >= 16 and right <= width - 16, (left, right)
    if width == 1400:
        assert abs(left - (width - right)) <= 2 and right - left <= 1200


def test_no_degenerate_clustering_is_one_line_not_an_empty_chart(tmp_path):
    page, md = written(tmp_path, default=False, invalid=False)
    assert "<h2>Degenerate clusterings per clustering option</h2><p>No clustering was degenerate: each of the 4 " \
           "finished runs delivered k non-empty clusters.</p>" in page
    assert 'alt="Degenerate clusterings' not in page and not (tmp_path / "report" / "invalid.png").exists()
    assert "No clustering was degenerate" in md


def test_a_degenerate_clustering_keeps_its_chart(tmp_path):
    page, md = written(tmp_path, default=False, invalid=True)
    assert '<img alt="Degenerate clusterings per clustering option" src="data:image/png;base64,' in page
    assert "No clustering was degenerate" not in page and "](invalid.png)" in md


def test_the_default_method_in_the_grid_is_marked_beside_it(tmp_path):
    page, md = written(tmp_path, default=True, invalid=False)
    assert ("fthc&#x27;s default method, features (autoencoder=features, pretext=none, clustering=kmeans), is in "
            "this grid as features+none+kmeans/none: 2 valid runs, mean test ARI 0.600") in page
    rows = re.findall(r"<tr( class='default')?><td>(\d+)</td><td>([^<]*)</td>", page)
    assert rows == [(" class='default'", "1", "features+none+kmeans/none (fthc&#x27;s default)"),
                    ("", "2", "resnet+mse+dtc/eucl"), ("", "3", "fcnn+mse+kmeans/none")]
    assert "| 1 | features+none+kmeans/none (fthc's default) |" in md


def test_a_grid_without_the_default_method_says_which_it_is_in_one_line(tmp_path):
    page, md = written(tmp_path, default=False, invalid=False)
    line = ("fthc's default method is features (autoencoder=features, pretext=none, clustering=kmeans); it was not "
            "in this grid, so no figure here compares it with the paper's methods (docs/benchmarks.md does).")
    assert f'<p class="default-method">{html.escape(line)}</p>' in page and line in md
    assert "(fthc&#x27;s default)" not in page and "class='default'" not in page


def test_the_default_method_stays_in_the_table_wherever_it_ranks():
    df = runs(with_truth=True)
    best = best_table(df, n=1, keep="resnet+mse+kmeans")
    assert best[["rank", "configuration"]].values.tolist() == [[1, "features"], [2, "resnet+mse+kmeans"]]
    assert best_table(df, n=1)["configuration"].tolist() == ["features"]
