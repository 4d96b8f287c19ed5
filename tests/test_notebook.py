"""The evaluation notebook runs top to bottom against the shipped model."""

from __future__ import annotations

import pytest

from farmscore.config import REPO_ROOT


def test_evaluation_notebook_executes(shared_data):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.read(REPO_ROOT / "notebooks" / "evaluation.ipynb", as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("farmscore" in str(o.get("data", {})) or "farmscore" in str(o.get("text", ""))
               for o in outputs)
