"""Evaluation reports: ``report.md`` with tables, and PNG plots (per-value F1, confusion, reliability)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # reports are written on machines without a display
import matplotlib.pyplot as plt

from model.labels import SENTIMENTS, VALUE_IDS

# Published NusaX Indonesian test macro-F1 (Winata et al., EACL 2023, as tabulated in the dataset README).
NUSAX_BASELINES = {"Naive Bayes": 73.1, "SVM": 78.7, "IndoBERT-base": 90.0, "XLM-R-large": 91.6}


def _pct(x) -> str:
    return f"{100 * x:.1f}"


def value_table(values: dict) -> list[str]:
    """Markdown rows of per-value precision, recall, F1 and support."""
    rows = ["| value | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
    for v in VALUE_IDS:
        m = values["per_value"][v]
        rows.append(f"| {v} | {_pct(m['precision'])} | {_pct(m['recall'])} | {_pct(m['f1'])} | {m['support']} |")
    return rows


def confusion_table(confusion) -> list[str]:
    """Markdown confusion matrix, rows gold and columns predicted."""
    rows = ["| gold \\ predicted | " + " | ".join(SENTIMENTS) + " |", "|---|" + "---:|" * len(SENTIMENTS)]
    rows += [f"| {s} | " + " | ".join(str(n) for n in row) + " |" for s, row in zip(SENTIMENTS, confusion, strict=True)]
    return rows


def interval(metrics: dict) -> str:
    """The suffix ' (95% bootstrap interval a-b)' for a metrics block that has an interval, else ''."""
    if "macro_f1_ci95" not in metrics:
        return ""
    low, high = metrics["macro_f1_ci95"]
    return f" (95% bootstrap interval {_pct(low)}-{_pct(high)})"


def corpus_section(title: str, m: dict) -> list[str]:
    """The report section of one corpus split."""
    v, s, r = m["values"], m["sentiment"], m["review"]
    return [
        f"## {title} ({m['texts']} texts)",
        "",
        *value_table(v),
        "",
        f"- value macro-F1 **{_pct(v['macro_f1'])}**{interval(v)}, micro-F1 {_pct(v['micro_f1'])}, "
        f"exact match {_pct(v['exact_match'])}, value ECE {v['value_ece']:.3f}",
        f"- polarity accuracy **{_pct(v['polarity_accuracy'])}** on {v['polarity_pairs']} correctly detected values "
        f"({_pct(v['polarity_accuracy_on_gold_values'])} on all gold values)",
        f"- sentiment macro-F1 **{_pct(s['macro_f1'])}**{interval(s)}, accuracy {_pct(s['accuracy'])}, "
        f"ECE {s['ece']:.3f}",
        f"- needs_review flags {_pct(r['flag_rate'])}% of texts, catching {_pct(r['recall'])}% of texts with any "
        f"error (precision {_pct(r['precision'])}); error rate {_pct(r['error_rate_all'])}% overall, "
        f"{_pct(r['error_rate_unflagged'])}% among unflagged texts",
        "",
        "Sentiment confusion:",
        "",
        *confusion_table(s["confusion"]),
        "",
    ]


def nusax_section(m: dict) -> list[str]:
    """NusaX test results beside the published baselines."""
    rows = ["## NusaX-senti Indonesian test (400 texts)", "", "| model | macro-F1 |", "|---|---:|"]
    rows += [f"| {name} (published) | {score:.1f} |" for name, score in NUSAX_BASELINES.items()]
    rows += [f"| **this model** | **{_pct(m['macro_f1'])}**{interval(m)} |", "", *confusion_table(m["confusion"]), ""]
    rows.append(f"Accuracy {_pct(m['accuracy'])}, ECE {m['ece']:.3f}.")
    return [*rows, ""]


def render_report(manifest: dict, metrics: dict) -> str:
    """The whole ``report.md`` text."""
    lines = [
        f"# Evaluation report: {manifest['version']}",
        "",
        f"Encoder `{manifest['encoder']['name']}` (sha256 `{manifest['encoder']['sha256'][:16]}...`), "
        f"trained from data sha256 `{manifest['training_data_sha256'][:16]}...`, code commit "
        f"`{manifest.get('git_commit') or 'unknown'}`. Scores are percentages.",
        "",
        "Thresholds were tuned on `dev`; `test` was used for these numbers only.",
        "",
        *corpus_section("BerAKHLAK test split", metrics["test"]),
    ]
    if "nusax_test" in metrics:
        lines += nusax_section(metrics["nusax_test"])
    lines += corpus_section("BerAKHLAK dev split (used for tuning; optimistic)", metrics["dev"])
    lines += ["Plots: `value_f1.png`, `sentiment_confusion.png`, `reliability.png`.", ""]
    return "\n".join(lines)


def plot_value_f1(metrics: dict, path: Path) -> None:
    """Bar chart of per-value F1 on the test split."""
    f1 = [metrics["test"]["values"]["per_value"][v]["f1"] for v in VALUE_IDS]
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.barh(VALUE_IDS, f1, color="#3b6ea5")
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 (test)")
    ax.invert_yaxis()
    for y, score in enumerate(f1):
        ax.text(score + 0.01, y, f"{score:.2f}", va="center")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(metrics: dict, path: Path) -> None:
    """Sentiment confusion matrices for the corpus test split and NusaX test."""
    panels = [("BerAKHLAK test", metrics["test"]["sentiment"])]
    if "nusax_test" in metrics:
        panels.append(("NusaX test", metrics["nusax_test"]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 4))
    for ax, (title, m) in zip(list(getattr(axes, "flat", [axes])), panels, strict=True):
        ax.imshow(m["confusion"], cmap="Blues")
        for i, row in enumerate(m["confusion"]):
            for j, n in enumerate(row):
                ax.text(j, i, str(n), ha="center", va="center")
        ax.set_xticks(range(3), SENTIMENTS)
        ax.set_yticks(range(3), SENTIMENTS)
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(metrics: dict, path: Path) -> None:
    """Reliability diagram of the top sentiment probability."""
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    for name, key in (("BerAKHLAK test", "test"), ("NusaX test", "nusax_test")):
        if key in metrics:
            m = metrics[key]["sentiment"] if key == "test" else metrics[key]
            bins = [b for b in m["reliability"] if b["count"]]
            ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", label=f"{name}")
    ax.set_xlabel("mean predicted probability")
    ax.set_ylabel("accuracy")
    ax.set_title("Sentiment reliability")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(manifest: dict, metrics: dict, out_dir: Path) -> Path:
    """Write ``report.md`` and the three plots into ``out_dir``; returns the report path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_value_f1(metrics, out_dir / "value_f1.png")
    plot_confusion(metrics, out_dir / "sentiment_confusion.png")
    plot_reliability(metrics, out_dir / "reliability.png")
    path = out_dir / "report.md"
    path.write_text(render_report(manifest, metrics), encoding="utf-8")
    return path
