"""Which features and heads help? Prints dev metrics for each training recipe, one change at a time.

TF-IDF runs over spaCy-normalised text (slang table + lemma lookup, ``model.lexical.LexicalFeatures``).
Only dev data is scored (corpus dev, NusaX valid, SmSA valid): decisions are taken on dev, never on test.
NusaX valid has only 100 texts, so SmSA valid (same kind of text, about 1,200) is printed beside it.

    .venv/bin/python benchmarks/dev_ablation.py            # every variant
    .venv/bin/python benchmarks/dev_ablation.py 0 3        # variants 0 and 3 only
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

from model.sentiment_data import NUSAX, SMSA
from model.settings import Settings
from model.training import TrainingParams, dev_metrics, load_training_data, public_metrics

PREVIOUS = {"lexical_max_features": 3000, "lexical_vocabulary": "corpus", "value_head": "binary", "nusax_weight": 1.0}
# The first four rows change the previous recipe; the rest change the current defaults (TrainingParams).
VARIANTS = {
    "e5 embeddings only": {**PREVIOUS, "lexical": False},
    "e5 + TF-IDF 3000 corpus terms (previous recipe)": PREVIOUS,
    "previous + ternary value heads": {**PREVIOUS, "value_head": "ternary"},
    "previous + 12000 terms from corpus and public train": {
        **PREVIOUS,
        "lexical_max_features": 12000,
        "lexical_vocabulary": "corpus+public",
    },
    "+ NusaX rows weighted 3": {"value_head": "binary"},
    "+ binary and ternary value heads averaged (shipped)": {},
    "+ value heads C = 3": {"C_values": 3.0},
    "+ value heads C = 10": {"C_values": 10.0},
}


def dev_scores(settings, data, params):
    """Value macro-F1, polarity accuracy, corpus-dev sentiment macro-F1, NusaX- and SmSA-valid macro-F1."""
    run = dev_metrics(settings, data, params)
    dev = run["dev"]
    public = [
        public_metrics(run["features"], run["classifier"], data.sentiment.split("valid", origin))["macro_f1"]
        for origin in (NUSAX, SMSA)
    ]
    return dev["values"]["macro_f1"], dev["values"]["polarity_accuracy"], dev["sentiment"]["macro_f1"], *public


def main() -> None:
    settings = Settings.from_env()
    base = TrainingParams()
    data = load_training_data(settings, base)
    chosen = {int(i) for i in sys.argv[1:]} or set(range(len(VARIANTS)))
    print(f"{'recipe':50s} {'value F1':>9s} {'polarity':>9s} {'sentiment':>9s} {'NusaX F1':>9s} {'SmSA F1':>9s}")
    for index, (name, change) in enumerate(VARIANTS.items()):
        if index not in chosen:
            continue
        start = time.time()
        scores = dev_scores(settings, data, replace(base, **change))
        print(f"{name:50s} " + " ".join(f"{s:>9.4f}" for s in scores) + f"   ({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
