"""MLflow tracking: every training run logged to the local store (``sqlite:///mlflow.db``
by default, ``MLFLOW_TRACKING_URI`` to change it), the model registered as ``farmscore`` and
the shipped version marked with the alias ``shipped``."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from farmscore.config import REPO_ROOT

REGISTERED_NAME = "farmscore"
ALIAS = "shipped"


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI", f"sqlite:///{REPO_ROOT / 'mlflow.db'}")


def _plots(spec: dict, data: dict, out: Path) -> list[Path]:
    """Calibration curves of both heads on the calibration half (what the tables fit)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scoring.model import HEADS

    fig, ax = plt.subplots(1, 2, figsize=(9, 4))
    for a, head in zip(ax, HEADS):
        cal = spec["heads"][head]["calibration"]
        a.plot(cal["x"], cal["y"])
        a.plot([0, 1], [0, 1], ":", color="grey")
        a.set_title(f"{head}: {cal.get('method', 'isotonic')} calibration")
        a.set_xlabel("LightGBM raw probability")
        a.set_ylabel("calibrated")
    path = out / "calibration.png"
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return [path]


def log_run(spec: dict, data: dict, models_path: Path, metrics: dict | None = None) -> str:
    """Log a training run and register its pyfunc model; returns the registered version."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri())
    mlflow.set_experiment("farmscore")
    with mlflow.start_run(run_name=f"{spec['name']}-{spec['version']}") as run, \
            tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params({f"lgb.{k}": v for k, v in spec["params"].items()})
        mlflow.log_params({f"data.{k}": v for k, v in spec["data"].items()})
        mlflow.log_params({"schema.version": spec["schema"]["version"], "schema.hash": spec["schema"]["hash"],
                           "model.version": spec["version"]})
        for head, h in spec["heads"].items():
            mlflow.log_metric(f"{head}.best_iteration", h["best_iteration"])
        for kind, th in spec["thresholds"].items():
            if isinstance(th, dict):
                for head, v in th.items():
                    mlflow.log_metric(f"threshold.{kind}.{head}", v)
        for k, v in (metrics or {}).items():
            if isinstance(v, (int, float)) and np.isfinite(v):
                mlflow.log_metric(k, float(v))
        mlflow.log_dict(spec["schema"], "feature_schema.json")
        for p in _plots(spec, data, Path(tmp)):
            mlflow.log_artifact(str(p), "plots")
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=str(Path(__file__).with_name("mlflow_model.py")),
            artifacts={"models": str(models_path)},
            code_paths=[str(REPO_ROOT / d) for d in ("features", "scoring", "farmscore", "originality")],
            registered_model_name=REGISTERED_NAME,
        )
        version = str(info.registered_model_version)
        MlflowClient().set_registered_model_alias(REGISTERED_NAME, ALIAS, version)
        print(f"mlflow: run {run.info.run_id}, registered {REGISTERED_NAME} v{version} @{ALIAS} "
              f"({tracking_uri()})")
        return version
