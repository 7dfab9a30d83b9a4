"""The one settings object of the project, from defaults or ``BERAKHLAK_*`` environment variables."""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from model.errors import ConfigurationError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_VERSION = "berakhlak-e5-2026.11.22-3"
EMBEDDED_E5 = "embedded:multilingual-e5-small"
ENV_PREFIX = "BERAKHLAK_"


@dataclass(frozen=True)
class Settings:
    """Every tunable of the analyser, the service and the batch tagger.

    Build it with ``Settings()`` for the defaults, ``Settings(field=...)`` to override, or
    ``Settings.from_env()`` to read ``BERAKHLAK_<FIELD>`` variables (e.g. ``BERAKHLAK_MAX_BATCH=64``).
    Tuples are given in the environment as comma-separated lists.
    """

    # Model and data
    encoder: str = EMBEDDED_E5
    model_dir: Path = REPO_ROOT / "artifacts" / DEFAULT_MODEL_VERSION
    artifacts_root: Path = REPO_ROOT / "artifacts"
    reports_root: Path = REPO_ROOT / "reports"
    data_dir: Path = REPO_ROOT / "training_data"
    cache_dir: Path = Path.home() / ".cache" / "berakhlak"
    embedding_cache: bool = True
    # 8, not 32: a request's texts pad to the longest of their encoder batch; measured 2x faster for
    # 32-text requests, 10% slower for large sorted files (benchmarks/RESULTS.md)
    encode_batch_size: int = 8
    random_state: int = 0

    # HTTP service
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    threads: int = 4
    preload: bool = False
    timeout: int = 120
    graceful_timeout: int = 30
    max_requests: int = 10000
    max_requests_jitter: int = 1000
    max_body_bytes: int = 1_000_000
    max_batch: int = 256
    max_chars: int = 5000
    truncate_long_texts: bool = True
    api_keys: tuple[str, ...] = field(default_factory=tuple)
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    log_level: str = "INFO"
    metrics_dir: Path | None = None  # Prometheus multiprocess folder, for several gunicorn workers

    # Batch tagging
    chunk_size: int = 2000

    def __post_init__(self):
        positive = ("encode_batch_size", "workers", "threads", "timeout", "max_body_bytes", "max_batch")
        for name in (*positive, "max_chars", "chunk_size"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"setting {name} must be at least 1, got {getattr(self, name)}")
        if not 0 < self.port < 65536:
            raise ConfigurationError(f"setting port must be 1-65535, got {self.port}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Build settings from ``BERAKHLAK_*`` variables; keyword ``overrides`` win over the environment."""
        environ = os.environ if environ is None else environ
        values = {}
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                values[f.name] = _parse(f.name, raw, hints[f.name])
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes) -> Settings:
        """Return a copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def _parse(name: str, raw: str, kind) -> object:
    if isinstance(kind, types.UnionType):
        kind = next(k for k in typing.get_args(kind) if k is not type(None))
    try:
        if kind is bool:
            return _parse_bool(raw)
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is Path:
            return Path(raw).expanduser()
        if typing.get_origin(kind) is tuple:
            return tuple(item.strip() for item in raw.split(",") if item.strip())
        return raw
    except ValueError as exc:
        raise ConfigurationError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {kind}") from exc


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(raw)
