"""The farmscore pyfunc model for MLflow ("models from code": this file is the model).

``mlflow models serve -m models:/farmscore@shipped --env-manager local`` then answers on raw
text: POST ``{"dataframe_records": [{"id": "a", "text": "..."}]}`` to ``/invocations``.
The shipped files (``models/``) travel as the ``models`` artifact; the code is farmscore's
own pipeline, so MLflow serves exactly what ``farmscore score`` computes.
"""

from __future__ import annotations

import os

import mlflow
from mlflow.pyfunc import PythonModel


class FarmscoreModel(PythonModel):
    def load_context(self, context):
        os.environ["FARMSCORE_MODELS"] = context.artifacts["models"]
        from scoring.score import build_scorer

        self.scorer = build_scorer()

    def predict(self, context, model_input, params=None):
        import pandas as pd

        records = model_input.to_dict("records") if hasattr(model_input, "to_dict") else list(model_input)
        out = []
        for i, r in enumerate(records):
            rec = self.scorer.score_or_error(r.get("text", ""), r.get("id", i))
            out.append({"id": rec.get("id"), "originality": rec.get("originality"),
                        "quality": rec.get("quality"), "verdict": rec.get("verdict"),
                        "error": (rec.get("error") or {}).get("reason")})
        return pd.DataFrame(out)


mlflow.models.set_model(FarmscoreModel())
