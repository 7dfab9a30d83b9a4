"""``berakhlak tag``: tag a CSV, JSONL or Parquet file and print what became of every row."""

from __future__ import annotations

import logging
import sys

from model.errors import ConfigurationError
from model.settings import Settings


def run_tag(args, settings: Settings) -> int:
    """Run the ``tag`` subcommand; 0 when the output is complete (rejected rows are not a failure).

    Errors are raised as ``BerakhlakError`` for ``service.cli`` to report; Ctrl-C returns 130 and keeps the
    finished chunks, so running the same command again resumes.
    """
    from model.batch import parts_dir, tag_file

    if args.dask_workers < 1:
        raise ConfigurationError(f"--dask-workers must be at least 1, got {args.dask_workers}")
    if args.scheduler and args.engine != "dask":
        raise ConfigurationError("--scheduler needs --engine dask")
    if args.engine == "dask":
        # A LocalCluster's scheduler runs in this process and logs every worker event at INFO.
        logging.getLogger("distributed").setLevel(logging.WARNING)
    try:
        summary = tag_file(
            args.input, args.out, settings=settings, rejects=args.rejects, evidence=not args.no_evidence,
            engine=args.engine, scheduler=args.scheduler, dask_workers=args.dask_workers,
            progress=not args.no_progress and sys.stderr.isatty(),
        )  # fmt: skip
    except KeyboardInterrupt:
        print(
            f"berakhlak tag: interrupted. Finished chunks are kept in {parts_dir(args.out)}; "
            "run the same command again to resume.",
            file=sys.stderr,
        )
        return 130
    print(format_summary(summary))
    return 0


def format_summary(summary) -> str:
    """The summary printed at the end of a run."""
    lines = [
        f"rows read      {summary.rows_read:>12,}",
        f"rows written   {summary.rows_written:>12,}  -> {summary.output}",
        f"rows rejected  {summary.rows_rejected:>12,}  -> {summary.rejects}",
    ]
    lines += [f"  {reason:<13}{count:>12,}" for reason, count in sorted(summary.reasons.items())]
    resumed = f" ({summary.chunks_resumed} done by an earlier run)" if summary.chunks_resumed else ""
    rate = summary.rows_read / summary.seconds if summary.seconds else 0.0
    lines += [
        f"check          rows read = rows written + rows rejected: "
        f"{summary.rows_read:,} = {summary.rows_written:,} + {summary.rows_rejected:,}",
        f"chunks         {summary.chunks:>12,}{resumed}",
        f"time           {summary.seconds:>12.1f} s ({rate:,.0f} rows/s)",
    ]
    return "\n".join(lines)
