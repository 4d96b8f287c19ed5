"""``farmscore train`` and ``farmscore evaluate``: the model's life cycle (training/)."""

from __future__ import annotations


def _train(args) -> int:
    from training.train import main

    argv = ["--no-mlflow"] if args.no_mlflow else []
    if args.labels:
        argv += ["--labels", *args.labels]
    return main(argv)


def _evaluate(args) -> int:
    if args.leave_out:
        from training.leave_out import main as leave_out

        return leave_out([a for f in args.leave_out for a in ("--leave-out", f)]
                         + (["--json", args.json] if args.json else []))
    from training.evaluate import main

    return main(["--json", args.json] if args.json else [])


def register(sub) -> None:
    t = sub.add_parser("train", help="simulate farms, train and ship the LightGBM model")
    t.add_argument("--no-mlflow", action="store_true", help="do not log the run to MLflow")
    t.add_argument("--labels", nargs="*", default=[], metavar="FILE",
                   help="moderator decisions (`farmscore queue export` files) to train on too")
    t.set_defaults(func=_train)
    e = sub.add_parser("evaluate", help="evaluate the shipped model against the baselines")
    e.add_argument("--json", metavar="FILE", help="also write the metrics as JSON")
    e.add_argument("--leave-out", action="append", default=[], metavar="FAMILY",
                   help="train without a farm family and test on it (repeatable; 'all' for "
                        "every family: python -m training.leave_out --help lists them)")
    e.set_defaults(func=_evaluate)
