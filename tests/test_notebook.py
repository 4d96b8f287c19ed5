"""The evaluation notebook: committed with its figures, and it runs top to bottom against
the shipped model, every plotting cell showing its figure inline."""

from __future__ import annotations

import base64

import pytest

from farmscore.config import REPO_ROOT

NOTEBOOK = REPO_ROOT / "notebooks" / "evaluation.ipynb"
#: Inline PNGs at the notebook's 64 dpi are ~15-30 KB; far more means a figure grew big.
MAX_NOTEBOOK_BYTES = 400_000


def plotting_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code" and "plt.subplots" in c.source]


def pngs(cell) -> list[bytes]:
    return [base64.b64decode(o["data"]["image/png"]) for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})]


def assert_every_plot_has_an_image(nb) -> None:
    cells = plotting_cells(nb)
    assert len(cells) >= 2, "the calibration and precision-recall cells"
    for c in cells:
        images = pngs(c)
        assert images, f"no image from the cell starting {c.source[:60]!r}"
        assert all(img.startswith(b"\x89PNG") for img in images)


def test_committed_notebook_shows_its_figures():
    """Opened on GitHub or in Jupyter without running anything, the figures are there,
    and the notebook stays small enough to review."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert_every_plot_has_an_image(nb)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert NOTEBOOK.stat().st_size < MAX_NOTEBOOK_BYTES
    assert 'matplotlib.use("Agg")' not in NOTEBOOK.read_text(encoding="utf-8")


def test_evaluation_notebook_executes(shared_data):
    """Executed headless (nbclient, no display): the inline backend still gives each
    plotting cell its PNG; a backend that draws nowhere (Agg) fails here."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any("farmscore" in str(o.get("data", {})) or "farmscore" in str(o.get("text", ""))
               for o in outputs)
    assert_every_plot_has_an_image(nb)
