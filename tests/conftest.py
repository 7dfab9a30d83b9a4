"""Shared fixtures: small labelled records built in the tests, and settings pointing at temporary folders."""

from __future__ import annotations

import pytest

from model.settings import Settings


def make_record(i, text, values=(), polarity=None, sentiment="negatif", service="dukcapil_ktp", register="tweet"):
    """One corpus record; polarity defaults to neg for every value."""
    polarity = polarity or {v: "neg" for v in values}
    return {
        "id": f"t{i:04d}",
        "text": text,
        "values": list(values),
        "value_polarity": dict(polarity),
        "sentiment": sentiment,
        "service": service,
        "register": register,
        "origin": "authored",
    }


@pytest.fixture
def settings(tmp_path):
    """Settings whose caches and outputs live in a temporary folder."""
    return Settings(
        cache_dir=tmp_path / "cache", artifacts_root=tmp_path / "artifacts", reports_root=tmp_path / "reports"
    )


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    """Path of a tiny random sentence-transformers model (built once per test session)."""
    from tests.tiny_model import build_tiny_encoder

    return build_tiny_encoder(tmp_path_factory.mktemp("tiny-encoder"))


@pytest.fixture(scope="session")
def tiny_settings(tmp_path_factory, tiny_encoder):
    """Settings for a tiny corpus and encoder in temporary folders."""
    from tests.tiny_model import write_tiny_corpus

    root = tmp_path_factory.mktemp("tiny")
    return Settings(
        encoder=str(tiny_encoder),
        data_dir=write_tiny_corpus(root / "training_data"),
        cache_dir=root / "cache",
        artifacts_root=root / "artifacts",
        reports_root=root / "reports",
        model_dir=root / "artifacts" / "tiny-1",
    )


@pytest.fixture(scope="session")
def tiny_artifact(tiny_settings):
    """A real artifact trained on the tiny corpus with the tiny encoder; returns its folder."""
    from model.training import TrainingParams, train
    from tests.tiny_model import SMALL_RULES

    train(tiny_settings, TrainingParams(public_sentiment=False), version="tiny-1", rules=SMALL_RULES)
    return tiny_settings.model_dir
