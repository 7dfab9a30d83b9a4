"""How does dev value macro-F1 grow with the number of corpus training texts? (Is more data the lever?)

Trains the default recipe on random subsets of the corpus train split (value and polarity heads; sentiment
from the corpus alone, to keep it quick), tunes thresholds on dev and prints dev metrics. Dev only.

    .venv/bin/python benchmarks/learning_curve.py [--fractions 0.25 0.5 0.75 1.0] [--original-only]

``--original-only`` keeps the first-round texts only (``model.data.is_first_round``), as the corpus stood before the
extension rounds (see training_data/DATASHEET.md).
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import replace

from model.data import is_first_round
from model.settings import Settings
from model.training import TrainingData, TrainingParams, dev_metrics, load_training_data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--original-only", action="store_true")
    args = parser.parse_args()
    settings = Settings.from_env()
    params = replace(TrainingParams(), public_sentiment=False)
    data = load_training_data(settings, params)
    train = data.corpus["train"]
    if args.original_only:
        train = [r for r in train if is_first_round(r)]
    print(f"{'train texts':>11s} {'dev value F1':>13s} {'dev polarity':>13s}")
    for fraction in args.fractions:
        start = time.time()
        subset = random.Random(params.random_state).sample(train, round(fraction * len(train)))
        subset_data = TrainingData({**data.corpus, "train": subset}, None)
        values = dev_metrics(settings, subset_data, params)["dev"]["values"]
        f1, polarity = values["macro_f1"], values["polarity_accuracy"]
        print(f"{len(subset):>11d} {f1:>13.4f} {polarity:>13.4f}   ({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
