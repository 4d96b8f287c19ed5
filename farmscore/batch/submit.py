"""``spark-submit`` entry point: ``spark-submit [options] farmscore/batch/submit.py IN OUT ...``
runs ``farmscore batch IN OUT --engine spark ...`` in the session spark-submit made.

spark-submit wants a ``.py`` file, not the ``farmscore`` console script; print this file's
path with ``python -c "import farmscore.batch.submit as m; print(m.__file__)"``.
"""

from __future__ import annotations

import sys

from farmscore.cli import main

if __name__ == "__main__":
    args = sys.argv[1:]
    if "--engine" not in args:
        args += ["--engine", "spark"]
    raise SystemExit(main(["batch", *args]))
