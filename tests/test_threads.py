"""The thread budget: where it comes from, and that the work it spreads gives the same results on any budget."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fthc import threads
from fthc.errors import DataError
from fthc.threads import budget, parallel_map, resolve, thread_budget


def test_the_budget_is_the_flag_then_the_environment_then_the_cpus_this_process_may_use(monkeypatch):
    monkeypatch.delenv("FTHC_THREADS", raising=False)
    assert resolve() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("FTHC_THREADS", "3")
    assert resolve() == 3
    assert resolve(1) == 1
    with thread_budget(1):
        assert budget() == 1
        assert os.environ["OMP_NUM_THREADS"] == "1"
    assert budget() == 3


@pytest.mark.parametrize("bad", ["0", "-2", "two", "1.5"])
def test_a_budget_that_is_not_a_whole_number_is_refused_naming_where_it_came_from(monkeypatch, bad):
    with pytest.raises(DataError, match="--threads"):
        resolve(bad)
    monkeypatch.setenv("FTHC_THREADS", bad)
    with pytest.raises(DataError, match="FTHC_THREADS"):
        resolve()


def test_the_command_line_refuses_a_bad_budget_in_one_line():
    from fthc.cli import main

    r = CliRunner().invoke(main, ["--threads", "0", "data", "synth", "--help"])
    assert r.exit_code == 2 and "--threads='0' is not a number of threads" in r.output
    assert "Traceback" not in r.output


def _square_or_fail(x):
    if x == 5:
        raise ValueError("task 5 failed")
    return x * x


def test_parallel_map_keeps_the_order_and_raises_a_tasks_error(monkeypatch):
    monkeypatch.setattr(threads, "PARALLEL_ROWS", 0)
    assert parallel_map(_square_or_fail, range(5), threads=2, rows=10) == [0, 1, 4, 9, 16]
    with pytest.raises(ValueError, match="task 5 failed"):
        parallel_map(_square_or_fail, range(8), threads=2, rows=10)


def test_small_tasks_run_here_without_starting_a_worker(monkeypatch):
    monkeypatch.setattr(threads, "_workers", lambda n: pytest.fail("a worker was started for small tasks"))
    assert parallel_map(_square_or_fail, range(4), threads=2, rows=threads.PARALLEL_ROWS - 1) == [0, 1, 4, 9]


def _points(seed=0):
    rng = np.random.default_rng(seed)
    return np.r_[rng.normal(size=(120, 3)), rng.normal(size=(120, 3)) + 4, rng.normal(size=(120, 3)) - 4]


def test_k_choice_and_confidence_are_the_same_on_one_thread_and_on_two(monkeypatch):
    from fthc.config import make_head, preset
    from fthc.segments.choice import choose_k
    from fthc.segments.stability import Stability

    monkeypatch.setattr(threads, "PARALLEL_ROWS", 0)
    z = _points()
    config = preset("features")

    def run(n):
        with thread_budget(n):
            choice = choose_k(z, lambda k, s: make_head(config.replace(seed=s), k).starting_point(), range(1, 6),
                              splits=4)
            head = make_head(config, choice.k).fit(z)
            return choice, Stability.fit(head, z, refits=4).proba(z)

    (one, p1), (two, p2) = run(1), run(2)
    assert one.k == two.k == 3
    pd.testing.assert_frame_equal(one.table, two.table)
    np.testing.assert_array_equal(p1, p2)


def test_the_outcome_models_folds_give_the_same_risk_on_one_thread_and_on_two(monkeypatch):
    from fthc.risk.model import OutcomeModel

    monkeypatch.setattr(threads, "PARALLEL_ROWS", 0)
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(200, 4)), columns=list("abcd"))
    y = (X["a"] + 0.5 * X["b"] ** 2 + rng.normal(size=200) > 0.8).astype(int)

    def run(n):
        with thread_budget(n):
            m = OutcomeModel("boosted", folds=3, bootstraps=3, seed=1).fit(X, y)
            return m.oof_, m.predict(X)["risk"]

    (oof1, r1), (oof2, r2) = run(1), run(2)
    np.testing.assert_array_equal(oof1, oof2)
    np.testing.assert_array_equal(r1, r2)
