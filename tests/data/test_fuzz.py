"""Fuzzing what users hand us: malformed CSV rows and edited model manifests end in fthc's own errors (one
clear line at the command line), never a traceback from pandas, Arrow, torch or json."""

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fthc.config import ClustererConfig
from fthc.errors import FthcError
from fthc.estimator import Clusterer
from fthc.data.transactions import read_transactions

GOOD = ["A,2023-01-05,10", "A,2023-02-05,-3.5", "B,2023-01-07,5"]
cells = st.one_of(st.text(alphabet='0123456789-/.:,;" abcT\t\\', max_size=12), st.sampled_from(
    ["", "?", "nan", "1e309", "-0", "2023-13-01", "31/02/2023", "20230101", "NULL", "\u00e9"]))


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cells, min_size=1, max_size=5), min_size=1, max_size=4), lenient=st.booleans())
def test_malformed_csv_rows_give_a_data_error_or_a_table(rows, lenient):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "t.csv"
        path.write_text("customer_id,timestamp,amount\n" + "\n".join(GOOD + [",".join(r) for r in rows]) + "\n")
        try:
            tx = read_transactions(path, lenient=lenient)
        except FthcError:
            return
        assert len(tx) <= len(GOOD) + len(rows) and np.isfinite(tx["amount"]).all()


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    X = np.random.default_rng(0).normal(size=(20, 1, 12)).astype(np.float32)
    cfg = ClustererConfig.of(autoencoder="fcnn", clustering="kmeans", k=2, latent_dim=2, pretrain_batches=2,
                             batch_size=8, arch={"hidden": [4, 4, 4]}, device="cpu")
    folder = Clusterer(cfg).fit(X).save(tmp_path_factory.mktemp("m") / "model")
    return json.loads((folder / "manifest.json").read_text()), folder


def _paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_edited_manifests_give_an_artefact_error(saved, data):
    from fthc.artefact import sha256

    manifest, folder = saved
    edited = json.loads(json.dumps(manifest))
    path = data.draw(st.sampled_from(sorted(_paths(edited))))
    value = data.draw(st.one_of(st.none(), st.integers(-5, 10**6), st.text(max_size=8), st.lists(st.integers(), max_size=2),
                                st.just({}), st.just("../../dev/zero")))
    node = edited
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d)
        for name in ("weights.pt", "clustering.npz"):
            (copy / name).write_bytes((folder / name).read_bytes())
        (copy / "manifest.json").write_text(json.dumps(edited))
        (copy / "manifest.sha256").write_text(sha256(copy / "manifest.json"))  # a forger who also fixed the checksum
        try:
            Clusterer.load(copy)
        except FthcError:
            pass


ids = st.one_of(
    st.from_regex(r"0[0-9]{1,6}", fullmatch=True),  # leading zeros
    st.from_regex(r"[1-9][0-9]{19,29}", fullmatch=True),  # beyond int64
    st.from_regex(r"-?[1-9][0-9]{0,8}", fullmatch=True),  # plain integers
    st.from_regex(r"[A-Za-z][A-Za-z0-9_.-]{0,10}", fullmatch=True),  # text
    st.sampled_from(["1e3", "0x1F", "1.0", "+5", "00", "0"]),
)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(drawn=st.lists(ids, min_size=2, max_size=8, unique=True), parquet=st.booleans())
def test_customer_ids_of_any_form_come_back_unchanged(drawn, parquet):
    """Every id leaves as it came: from a CSV as its text (as integers only when every one round-trips), from
    Parquet text as text; through the reader and through the engine that computes behaviour."""
    import pandas as pd

    import fthc

    with tempfile.TemporaryDirectory() as d:
        rows = pd.DataFrame({"customer_id": [i for i in drawn for _ in range(3)],
                             "timestamp": ["2023-01-05", "2023-02-06", "2023-03-07"] * len(drawn),
                             "amount": [10.0, -3.5, 4.0] * len(drawn)})
        path = Path(d) / ("t.parquet" if parquet else "t.csv")
        rows.to_parquet(path, index=False) if parquet else rows.to_csv(path, index=False)
        tx = read_transactions(path)
        assert sorted(map(str, tx["customer_id"].unique())) == sorted(drawn)
        labels = fthc.Segmenter(k=1).fit(path).labels_
        assert sorted(map(str, labels.index)) == sorted(drawn)
        if parquet or not all(str(int(i)) == i for i in drawn if i.lstrip("-").isdigit()) or \
                not all(i.lstrip("-").isdigit() for i in drawn):
            assert all(isinstance(i, str) for i in labels.index)  # text stays text
