import numpy as np
import pandas as pd

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
