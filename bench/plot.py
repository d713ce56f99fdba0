#!/usr/bin/env python3
"""One PNG per benchmark suite, docs/bench/<suite>.png, from bench/results/<suite>.json: a panel
per metric marked `plot: true` (in a row when they have one or two workloads), grouped bars with
the sides (kstream first) side by side per workload, each bar labelled with its value, the unit on the axis and "higher/lower is better" in
the panel's title. The output depends only on the result file and the matplotlib version: fixed
size, resolution, font (DejaVu Sans, shipped with matplotlib), colours and hash salt, and no
software or date in the PNG's metadata, so a rerun on the same file gives the same bytes.

    scripts/bench-plots.sh                     (make bench-plots; run by make bench)
    python bench/plot.py RESULTS_DIR OUT_DIR   given matplotlib
"""
import os
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import StrMethodFormatter  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import results  # noqa: E402  (bench/lib)

# kstream first, in the project's colour; the peers after it.
COLOURS = ["#d9480f", "#1971c2", "#2f9e44", "#7048e8", "#868e96"]
WIDTH_IN, PANEL_IN, DPI = 10.0, 3.6, 100


def style():
    matplotlib.rcParams.update({
        "font.family": "DejaVu Sans", "font.size": 9, "svg.hashsalt": "kstream-bench",
        "axes.spines.top": False, "axes.spines.right": False, "axes.axisbelow": True,
        "path.simplify": False,
    })


def compact(value):
    """A bar's label: three significant figures, from 10,000 on in k and from a million in M."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.3g}k"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def panel(ax, metric, sides):
    workloads = list(metric["values"])
    # Only the sides this metric has values for (a side measured for another metric only, e.g.
    # a floor with no records per second, leaves no gap); colours follow the order of `sides`.
    colours = {side: COLOURS[i % len(COLOURS)] for i, side in enumerate(sides)}
    sides = [side for side in sides if any(side in values for values in metric["values"].values())]
    width = 0.8 / len(sides)
    for i, side in enumerate(sides):
        xs = [x + (i - (len(sides) - 1) / 2) * width
              for x, w in enumerate(workloads) if side in metric["values"][w]]
        ys = [metric["values"][w][side] for w in workloads if side in metric["values"][w]]
        bars = ax.bar(xs, ys, width * 0.92, label=side, color=colours[side])
        ax.bar_label(bars, labels=[compact(y) for y in ys], padding=2, fontsize=7)
    ax.set_xticks(range(len(workloads)), [textwrap.fill(w, 22) for w in workloads], fontsize=8)
    pad = 0.3 * max(0, 3 - len(workloads))  # one or two workloads' bars not stretched across the panel
    ax.set_xlim(-0.5 - pad, len(workloads) - 0.5 + pad)
    ax.set_ylabel(metric["unit"])
    if max(v for values in metric["values"].values() for v in values.values()) >= 1000:
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    better = "higher is better" if metric["higher_is_better"] else "lower is better"
    ax.set_title(f"{metric['name']}\n({better})", fontsize=10, loc="left")
    ax.grid(axis="y", color="#dee2e6", linewidth=0.6)
    ax.margins(y=0.15)


def draw(doc, out_dir):
    # A metric the run measured nothing for (e.g. zip sizes with ZIPS=skip) has no panel.
    metrics = [m for m in doc["metrics"] if m.get("plot") and any(m["values"].values())]
    if not metrics:
        return None
    # Panels of one or two workloads side by side (up to three), more workloads one under another.
    across = len(metrics) <= 3 and max(len(m["values"]) for m in metrics) <= 2
    rows, columns = (1, len(metrics)) if across else (len(metrics), 1)
    width = WIDTH_IN if columns < 3 else WIDTH_IN * 1.2
    height = PANEL_IN * rows + 1.0  # the panels, the title and legend above, the footer below
    fig, axes = plt.subplots(rows, columns, figsize=(width, height), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        panel(ax, metric, doc["sides"])
    fig.suptitle(doc["title"], fontsize=12, fontweight="bold", x=0.01, y=1 - 0.12 / height, ha="left", va="top")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.005, 1 - 0.40 / height), ncol=len(labels),
               frameon=False, fontsize=9)
    fig.text(0.01, 0.08 / height, f"recorded {doc['recorded']} · {doc['command']}", fontsize=7, color="#495057")
    fig.tight_layout(rect=(0, 0.22 / height, 1, 1 - 0.65 / height))
    path = Path(out_dir) / f"{doc['suite']}.png"
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def main():
    results_dir = sys.argv[1] if len(sys.argv) > 1 else results.RESULTS
    out_dir = sys.argv[2] if len(sys.argv) > 2 else results.ROOT / "docs" / "bench"
    os.makedirs(out_dir, exist_ok=True)
    style()
    docs = results.load_all(results_dir)
    if not docs:
        print(f"plot: no result files in {results_dir}: run make bench first", file=sys.stderr)
        sys.exit(1)
    for doc in docs:
        path = draw(doc, out_dir)
        if path is None:
            print(f"plot: {doc['suite']}: no measured metric to plot", file=sys.stderr)
            continue
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)", file=sys.stderr)


if __name__ == "__main__":
    main()
