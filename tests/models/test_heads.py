"""Every registered clustering head is a scikit-learn clusterer: scikit-learn's own estimator checks run on each
one the moment it is registered (as aeon checks every registered estimator)."""

import warnings

import pytest
from sklearn.utils.estimator_checks import check_estimator

from fthc.clustering import HEADS


@pytest.mark.parametrize("name", HEADS.names())
def test_every_registered_head_passes_scikit_learns_estimator_checks(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the checks' own SkipTestWarnings (array API input)
        results = check_estimator(HEADS.create(name), on_fail=None)
    failed = [f"{r['check_name']}: {str(r['exception'])[:200]}" for r in results if r["status"] == "failed"]
    assert not failed, "\n".join(failed)
