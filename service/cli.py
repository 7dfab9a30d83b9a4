"""The ``berakhlak`` command: train, evaluate, tag and serve."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from model.errors import BerakhlakError
from model.settings import REPO_ROOT, Settings


def _settings(args) -> Settings:
    overrides = {
        name: value
        for name, value in (
            ("model_dir", getattr(args, "model_dir", None)),
            ("host", getattr(args, "host", None)),
            ("port", getattr(args, "port", None)),
            ("workers", getattr(args, "workers", None)),
            ("threads", getattr(args, "threads", None)),
            ("chunk_size", getattr(args, "chunk_size", None)),
        )
        if value is not None
    }
    return Settings.from_env(**overrides)


def cmd_train(args) -> int:
    """Train on ``training_data/`` and write ``artifacts/<version>/``."""
    from model.training import TrainingParams, train

    params = TrainingParams(
        C_values=args.c_values,
        C_polarity=args.c_polarity,
        C_sentiment=args.c_sentiment,
        value_head=args.value_head,
        domain_weight=args.domain_weight,
        nusax_weight=args.nusax_weight,
        lexical_max_features=args.lexical_max_features,
        lexical_vocabulary=args.lexical_vocabulary,
        review_budget=args.review_budget,
        public_sentiment=not args.no_public_sentiment,
        limit=args.limit,
        random_state=args.random_state,
    )
    analyzer = train(_settings(args), params, version=args.version)
    summary = {split: _headline(m) for split, m in analyzer.manifest["metrics"].items()}
    print(json.dumps({"version": analyzer.version, "metrics": summary}, indent=2))
    return 0


def _headline(m: dict) -> dict:
    if "values" not in m:
        return {"sentiment_macro_f1": round(m["macro_f1"], 4)}
    return {
        "value_macro_f1": round(m["values"]["macro_f1"], 4),
        "polarity_accuracy": round(m["values"]["polarity_accuracy"], 4),
        "sentiment_macro_f1": round(m["sentiment"]["macro_f1"], 4),
    }


def cmd_tune(args) -> int:
    """Choose training hyper-parameters on dev and print them as ``berakhlak train`` options."""
    from model.tuning import tune

    best, _ = tune(_settings(args), log=lambda trial: print(json.dumps(trial)))
    print(
        f"best: --c-values {best.C_values} --c-polarity {best.C_polarity} "
        f"--c-sentiment {best.C_sentiment} --domain-weight {best.domain_weight}"
    )
    return 0


def cmd_evaluate(args) -> int:
    """Evaluate an artifact; write ``reports/<version>/`` and the model card."""
    from model.evaluation import evaluate

    settings = _settings(args)
    report = evaluate(settings, settings.model_dir, model_card=args.model_card)
    print(f"report written to {report}")
    return 0


def cmd_validate(args) -> int:
    """Validate the corpus in ``training_data/`` and print its summary."""
    from model.data import load_corpus, validate_corpus

    settings = _settings(args)
    summary = validate_corpus(load_corpus(settings.data_dir))
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 0


def cmd_tag(args) -> int:
    """Tag a CSV/JSONL/Parquet file (implemented in ``service.tag_command``)."""
    from service.tag_command import run_tag

    return run_tag(args, _settings(args))


def cmd_serve(args) -> int:
    """Run the HTTP service under gunicorn, or Flask's dev server with ``--dev``."""
    from service.serve_command import run_serve

    return run_serve(args, _settings(args))


def _add_training_options(train) -> None:
    from model.params import LEXICAL_VOCABULARIES, VALUE_HEADS, TrainingParams

    defaults = TrainingParams()
    train.add_argument("--c-values", type=float, default=defaults.C_values)
    train.add_argument("--c-polarity", type=float, default=defaults.C_polarity)
    train.add_argument("--c-sentiment", type=float, default=defaults.C_sentiment)
    train.add_argument("--value-head", choices=VALUE_HEADS, default=defaults.value_head)
    train.add_argument("--domain-weight", type=float, default=defaults.domain_weight)
    train.add_argument("--nusax-weight", type=float, default=defaults.nusax_weight)
    train.add_argument("--lexical-max-features", type=int, default=defaults.lexical_max_features)
    train.add_argument("--lexical-vocabulary", choices=LEXICAL_VOCABULARIES, default=defaults.lexical_vocabulary)
    train.add_argument(
        "--review-budget", type=float, default=defaults.review_budget, help="share of dev texts to flag for review"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="berakhlak", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model and write artifacts/<version>/")
    train.add_argument("--version", help="artifact version (default berakhlak-e5-YYYY.MM.DD)")
    train.add_argument("--limit", type=int, help="use only the first N rows of every split (quick runs)")
    _add_training_options(train)
    train.add_argument("--no-public-sentiment", action="store_true", help="train sentiment on the corpus alone")
    train.add_argument("--random-state", type=int, default=0)
    train.set_defaults(func=cmd_train)

    tune = commands.add_parser("tune", help="choose training hyper-parameters on dev (never on test)")
    tune.set_defaults(func=cmd_tune)

    evaluate = commands.add_parser("evaluate", help="write reports/<version>/ for an artifact")
    evaluate.add_argument("--model-dir", type=Path, help="artifact folder (default: the shipped model)")
    evaluate.add_argument("--model-card", type=Path, default=REPO_ROOT / "MODEL_CARD.md")
    evaluate.set_defaults(func=cmd_evaluate)

    validate = commands.add_parser("validate", help="check the corpus: schema, duplicates, splits, balance")
    validate.set_defaults(func=cmd_validate)

    tag = commands.add_parser("tag", help="tag a CSV, JSONL or Parquet file")
    tag.add_argument("input", type=Path)
    tag.add_argument("--out", type=Path, required=True, help="output .jsonl or .parquet")
    tag.add_argument("--rejects", type=Path, help="rejects file (default: OUT with .rejects.jsonl)")
    tag.add_argument("--model-dir", type=Path)
    tag.add_argument("--chunk-size", type=int)
    tag.add_argument("--no-evidence", action="store_true", help="skip per-value evidence sentences")
    tag.add_argument("--engine", choices=("local", "dask"), default="local")
    tag.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (default: LocalCluster)")
    tag.add_argument("--dask-workers", type=int, default=2, help="workers of the LocalCluster")
    tag.add_argument("--no-progress", action="store_true")
    tag.set_defaults(func=cmd_tag)

    serve = commands.add_parser("serve", help="serve the HTTP API (gunicorn)")
    serve.add_argument("--dev", action="store_true", help="Flask's development server instead of gunicorn")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--threads", type=int)
    serve.add_argument("--model-dir", type=Path)
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``berakhlak`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except BerakhlakError as exc:
        print(f"berakhlak {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
