"""The notebooks run top to bottom on the tiny model and corpus (their parameters cell is replaced)."""

import nbformat
import pytest
from nbclient import NotebookClient

from model.settings import REPO_ROOT

pytestmark = pytest.mark.slow


def run_notebook(name, parameters, env, monkeypatch):
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    notebook = nbformat.read(REPO_ROOT / "notebooks" / name, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": REPO_ROOT}}).execute()
    return notebook


def tiny_env(settings):
    return {
        "BERAKHLAK_ENCODER": settings.encoder,
        "BERAKHLAK_DATA_DIR": settings.data_dir,
        "BERAKHLAK_CACHE_DIR": settings.cache_dir,
        "BERAKHLAK_ARTIFACTS_ROOT": settings.artifacts_root,
        "BERAKHLAK_REPORTS_ROOT": settings.reports_root,
        "BERAKHLAK_MODEL_DIR": settings.model_dir,
    }


def test_retrain_notebook_trains_saves_and_reports(tiny_settings, tiny_artifact, monkeypatch):
    run_notebook(
        "01-retrain.ipynb", {"LIMIT": 60, "VERSION": "nb-retrain", "PUBLIC_SENTIMENT": False},
        tiny_env(tiny_settings), monkeypatch,
    )  # fmt: skip
    assert (tiny_settings.artifacts_root / "nb-retrain" / "manifest.json").is_file()
    assert (tiny_settings.reports_root / "nb-retrain" / "report.md").is_file()


def test_error_analysis_notebook_runs(tiny_settings, tiny_artifact, monkeypatch):
    notebook = run_notebook(
        "02-error-analysis.ipynb", {"SPLIT": "dev", "MODEL_DIR": str(tiny_artifact), "LIMIT": 30},
        tiny_env(tiny_settings), monkeypatch,
    )  # fmt: skip
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("texts," in o.get("text", "") for o in outputs)
