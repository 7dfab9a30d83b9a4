"""FeedbackClassifier on synthetic features: targets, calibration, Pipeline, GridSearchCV, sklearn checks."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    parametrize_with_checks,
)

from model.estimators import (
    N_TARGETS,
    N_VALUES,
    POLARITY_OFFSET,
    SENTIMENT_COLUMN,
    UNKNOWN,
    FeedbackClassifier,
    targets_from_records,
)
from model.heads import CalibratedLinearClassifier, probability_of
from model.labels import VALUE_IDS
from tests.conftest import make_record


def synthetic(n=600, d=12, seed=0):
    """Features where value j is present when feature j > 0.3 and sentiment follows feature 7."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = np.full((n, N_TARGETS), UNKNOWN)
    y[:, :7] = (X[:, :7] > 0.3).astype(int)
    y[:, 7:14] = np.where(y[:, :7] == 1, (X[:, 8:9] > 0).astype(int), UNKNOWN)
    y[:, SENTIMENT_COLUMN] = np.digitize(X[:, 7], [-0.5, 0.5])
    return X, y


def test_targets_encode_values_polarity_and_sentiment():
    records = [
        make_record(1, "a", ["akuntabel", "loyal"], {"akuntabel": "neg", "loyal": "pos"}, "netral"),
        {"text": "public row", "sentiment": "positif"},
    ]
    y = targets_from_records(records)
    a, loyal = VALUE_IDS.index("akuntabel"), VALUE_IDS.index("loyal")
    assert y[0, a] == 1 and y[0, loyal] == 1 and y[0, :7].sum() == 2
    assert y[0, 7 + a] == 0 and y[0, 7 + loyal] == 1 and y[0, 7] == UNKNOWN
    assert y[0, SENTIMENT_COLUMN] == 1
    assert (y[1, :14] == UNKNOWN).all() and y[1, SENTIMENT_COLUMN] == 2


def test_fit_returns_self_and_learns():
    X, y = synthetic()
    clf = FeedbackClassifier(random_state=0)
    assert clf.fit(X[:400], y[:400]) is clf
    assert clf.score(X[400:], y[400:]) > 0.8
    assert clf.predict(X[:5]).shape == (5, N_TARGETS)


def test_probabilities_are_valid_and_calibrated():
    X, y = synthetic(n=1500)
    clf = FeedbackClassifier(random_state=0).fit(X[:1000], y[:1000])
    sentiment = clf.sentiment_proba(X[1000:])
    np.testing.assert_allclose(sentiment.sum(axis=1), 1.0, rtol=1e-6)
    values = clf.value_proba(X[1000:])
    assert ((values >= 0) & (values <= 1)).all()
    # Calibrated: the mean predicted probability of a value is close to its frequency.
    assert abs(values[:, 0].mean() - y[1000:, 0].mean()) < 0.05


def test_unknown_value_rows_train_only_the_sentiment_head():
    X, y = synthetic()
    y_public = y.copy()
    y_public[300:, :14] = UNKNOWN
    clf = FeedbackClassifier(random_state=0).fit(X, y_public)
    assert clf.score(X[:300], y[:300]) > 0.75


def test_tune_thresholds_improves_or_keeps_dev_f1():
    X, y = synthetic(n=1500, seed=4)
    clf = FeedbackClassifier(random_state=0).fit(X[:900], y[:900])
    before = clf.score(X[900:1200], y[900:1200])
    clf.tune_thresholds(X[900:1200], y[900:1200])
    assert clf.score(X[900:1200], y[900:1200]) >= before
    assert ((clf.thresholds_ > 0) & (clf.thresholds_ < 1)).all()


def test_random_state_makes_fits_reproducible():
    X, y = synthetic()
    a = FeedbackClassifier(random_state=3).fit(X, y).value_proba(X)
    b = FeedbackClassifier(random_state=3).fit(X, y).value_proba(X)
    np.testing.assert_array_equal(a, b)


def test_bad_target_shape_is_refused():
    X, y = synthetic(n=50)
    with pytest.raises(ValueError, match="y must have shape"):
        FeedbackClassifier().fit(X, y[:, 0])


def test_works_in_pipeline_and_grid_search():
    X, y = synthetic(n=240)
    pipe = Pipeline([("scale", FunctionTransformer(lambda x: x * 2.0)), ("clf", FeedbackClassifier(random_state=0))])
    search = GridSearchCV(pipe, {"clf__C_values": [0.01, 1.0]}, cv=2).fit(X, y)
    assert search.best_params_["clf__C_values"] in (0.01, 1.0)
    assert search.predict(X[:3]).shape == (3, N_TARGETS)
    assert clone(search.best_estimator_).get_params()["clf__C_values"] == search.best_params_["clf__C_values"]


@parametrize_with_checks(
    [CalibratedLinearClassifier(random_state=0)],
    expected_failed_checks=lambda _: {
        # Cross-validated calibration puts a duplicated row's copies in different folds, so weight 2
        # and duplication differ slightly (scikit-learn's own CalibratedClassifierCV has the same exception).
        "check_sample_weight_equivalence_on_dense_data": "cross-validated calibration",
        "check_sample_weight_equivalence_on_sparse_data": "cross-validated calibration",
        # By design: calibration maps the class-weighted scores back to frequencies, so class_weight
        # changes the direction of the boundary but does not push predictions towards a class.
        "check_class_weight_classifiers": "calibration undoes the prior shift of class weights",
    },
)
def test_heads_pass_every_sklearn_check(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check",
    [
        check_parameters_default_constructible,
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_set_params,
    ],
)
def test_feedback_classifier_parameter_conventions(check):
    # The fitting checks of parametrize_with_checks feed 1-D labels; FeedbackClassifier's target is the
    # 15-column matrix, so its fitting behaviour is tested above (Pipeline, GridSearchCV, clone, refit).
    check("FeedbackClassifier", FeedbackClassifier())


def test_clone_refit_is_idempotent():
    X, y = synthetic(n=300)
    clf = FeedbackClassifier(random_state=0).fit(X, y)
    again = clone(clf).fit(X, y)
    np.testing.assert_allclose(clf.sentiment_proba(X), again.sentiment_proba(X))
    clf.fit(X, y)
    np.testing.assert_allclose(clf.sentiment_proba(X), again.sentiment_proba(X))


def test_one_class_head_answers_that_class():
    X = np.random.default_rng(0).normal(size=(20, 3))
    head = CalibratedLinearClassifier().fit(X, np.ones(20, dtype=int))
    assert (head.predict(X) == 1).all()
    np.testing.assert_array_equal(probability_of(head, X, label=1), np.ones(20))
    np.testing.assert_array_equal(probability_of(head, X, label=0), np.zeros(20))


def two_sided(n=1200, seed=0):
    """Value 0 applies when |x0| > 0.8: violated far on the negative side, shown far on the positive side."""
    X, y = synthetic(n=n, seed=seed)
    present = np.abs(X[:, 0]) > 0.8
    y[:, 0] = present.astype(int)
    y[:, POLARITY_OFFSET] = np.where(present, (X[:, 0] > 0).astype(int), UNKNOWN)
    return X, y


def test_ternary_value_head_learns_a_value_signalled_from_both_sides():
    X, y = two_sided()
    f1 = {}
    for kind in ("binary", "ternary"):
        clf = FeedbackClassifier(value_head=kind, random_state=0).fit(X[:800], y[:800])
        clf.tune_thresholds(X[800:1000], y[800:1000])
        chosen = clf.value_proba(X[1000:])[:, 0] >= clf.thresholds_[0]
        f1[kind] = f1_score(y[1000:, 0], chosen)
    assert f1["ternary"] > 0.9 > f1["binary"] + 0.1


def test_ternary_value_probabilities_are_probabilities():
    X, y = two_sided(seed=2)
    clf = FeedbackClassifier(value_head="ternary", random_state=0).fit(X, y)
    values = clf.value_proba(X)
    assert ((values >= 0) & (values <= 1)).all()
    assert all(len(h.classes_) == 3 for heads in clf.value_heads_ for h in heads)
    assert abs(values[:, 0].mean() - y[:, 0].mean()) < 0.05


def test_binary_plus_ternary_heads_average_the_two_kinds():
    X, y = two_sided(n=400, seed=3)
    both = FeedbackClassifier(value_head="binary+ternary", random_state=0).fit(X, y)
    single = {kind: FeedbackClassifier(value_head=kind, random_state=0).fit(X, y) for kind in ("binary", "ternary")}
    assert [len(heads) for heads in both.value_heads_] == [2] * N_VALUES
    expected = (single["binary"].value_proba(X) + single["ternary"].value_proba(X)) / 2
    np.testing.assert_allclose(both.value_proba(X), expected, atol=1e-12)
    np.testing.assert_allclose(both.sentiment_proba(X), single["binary"].sentiment_proba(X), atol=1e-12)


@pytest.mark.parametrize("kind", ["binary", "binary+ternary"])
def test_heads_survive_the_artifact_arrays(kind):
    from model.analyzer import classifier_from_arrays, classifier_to_arrays

    X, y = two_sided(n=400, seed=4)
    clf = FeedbackClassifier(value_head=kind, random_state=0).fit(X, y)
    clf.thresholds_ = np.linspace(0.3, 0.6, N_VALUES)
    arrays = classifier_to_arrays(clf)
    assert any(name.startswith("value.") and "@" in name for name in arrays) == ("+" in kind)
    loaded = classifier_from_arrays(arrays)
    np.testing.assert_allclose(loaded.value_proba(X), clf.value_proba(X), atol=1e-12)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))


def test_unknown_value_head_kind_is_refused():
    X, y = synthetic(n=60)
    with pytest.raises(ValueError, match="value_head"):
        FeedbackClassifier(value_head="quaternary").fit(X, y)


def test_sparse_features_give_the_same_probabilities_as_dense():
    from scipy import sparse

    X, y = synthetic(n=300)
    X[np.abs(X) < 0.8] = 0.0
    dense = FeedbackClassifier(random_state=0).fit(X, y)
    from_sparse = FeedbackClassifier(random_state=0).fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(from_sparse.value_proba(sparse.csr_matrix(X)), dense.value_proba(X), atol=1e-6)
    np.testing.assert_allclose(from_sparse.sentiment_proba(X), dense.sentiment_proba(sparse.csr_matrix(X)), atol=1e-6)
