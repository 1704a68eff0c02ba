"""docs/img/bench.png: the figures of one run against the issue's targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.targets import TARGETS  # noqa: E402

MEASURED, TARGET = "#3b6ea8", "#c0392b"


def _bars(axis, labels: list[str], values: list[float], unit: str, targets=None) -> None:
    bars = axis.bar(labels, values, color=MEASURED)
    axis.bar_label(bars, labels=[f"{value:,.0f}" if value >= 10 else f"{value:.2f}"
                                 for value in values], fontsize=8)  # fmt: skip
    for index, target in enumerate(targets or []):
        if target is not None:
            axis.hlines(target, index - 0.4, index + 0.4, colors=TARGET, linestyles="dashed")
    axis.set_ylabel(unit)
    axis.tick_params(axis="x", labelsize=8)


def draw(results: dict[str, Any], path: Path) -> None:
    figure, axes = plt.subplots(2, 3, figsize=(14, 8))
    t, lat, iso = results["throughput"], results["latency"], results["isolation"]
    ceiling = t["ceiling_per_s"]["median"]
    _bars(axes[0][0], ["Signalpost", "ceiling"], [t["deliveries_per_s"]["median"], ceiling],
          "deliveries / s", [TARGETS["ratio"] * ceiling, None])  # fmt: skip
    axes[0][0].set_title(f"Throughput (ratio {t['ratio']['median']:.2f})")
    _bars(axes[0][1], ["p50", "p99", "isolation p99"],
          [lat["p50_ms"]["median"], lat["p99_ms"]["median"], iso["healthy_p99_ms"]["median"]],
          "ms", [TARGETS["p50_ms"], TARGETS["p99_ms"], TARGETS["isolation_p99_ms"]])  # fmt: skip
    axes[0][1].set_yscale("log")
    axes[0][1].set_title("Latency, trigger → arrival")

    fan = results["fan_out"]
    many = f"{results['setup']['webhooks_in_database']:,} webhooks"
    for key, style, label in (("small_database", "o--", "few webhooks"),
                              ("large_database", "s-", many)):  # fmt: skip
        sizes = [int(size) for size in fan[key]]
        axes[0][2].plot(sizes, [f["trigger_ms"]["median"] for f in fan[key].values()], style,
                        label=f"trigger call, {label}")  # fmt: skip
        axes[1][0].plot(sizes, [f["last_delivery_s"]["median"] for f in fan[key].values()], style,
                        label=label)  # fmt: skip
    for axis in (axes[0][2], axes[1][0]):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("subscribers")
        axis.legend(fontsize=8)
    axes[0][2].plot([10], [TARGETS["fan_out_10_trigger_ms"]], "x", color=TARGET, label="target")
    axes[0][2].set_ylabel("ms")
    axes[0][2].set_title("Fan-out: trigger call")
    axes[1][0].set_ylabel("s")
    axes[1][0].set_title("Fan-out: time to the last delivery")

    keys = ("api_first_ms", "api_deep_ms", "page_first_ms", "page_deep_ms", "page_failed_only_ms")
    keys += ("page_event_type_ms", "page_other_event_type_ms")
    names = ("API\nfirst", "API\ndeep", "page\nfirst", "page\ndeep", "page\nfailed")
    names += ("page\nits type", "page\nother type")
    width = 0.4
    for offset, (name, logs) in zip((-width / 2, width / 2), results["logs"].items(), strict=False):
        positions = [index + offset for index in range(len(keys))]
        bars = axes[1][1].bar(
            positions,
            [logs[key]["median"] for key in keys],
            width,
            label=f"{name} webhook",
            color=MEASURED if offset < 0 else "#9bb7d4",
        )
        axes[1][1].bar_label(bars, fmt="%.0f", fontsize=7)  # fmt: skip
    # First and deep pages, of the API then of the page; the filtered pages are first pages.
    targets = [TARGETS["logs_first_ms"], TARGETS["logs_deep_ms"]] * 2
    targets += [TARGETS["logs_first_ms"]] * (len(keys) - len(targets))
    for index, target in enumerate(targets):
        axes[1][1].hlines(target, index - 0.45, index + 0.45, colors=TARGET, linestyles="dashed")
    axes[1][1].set_xticks(range(len(keys)), names, fontsize=8)
    axes[1][1].set_ylabel("ms")
    axes[1][1].legend(fontsize=8)
    axes[1][1].set_title(f"Logs, {results['setup']['log_attempt_rows']:,} attempt rows")

    mem = results["memory"]
    workers = range(len(mem["rss_before_mb"]))
    before = axes[1][2].bar(
        [n - 0.2 for n in workers], mem["rss_before_mb"], 0.4, color="#9bb7d4", label="before"
    )
    after = axes[1][2].bar([n + 0.2 for n in workers], mem["rss_after_mb"], 0.4,
                           color=MEASURED, label="after")  # fmt: skip
    for bars in (before, after):
        axes[1][2].bar_label(bars, fmt="%.0f", fontsize=8)
    axes[1][2].set_xticks(list(workers), [f"worker {n + 1}" for n in workers])
    axes[1][2].legend(fontsize=8)
    axes[1][2].set_ylabel("RSS, MB")
    axes[1][2].set_title(f"Worker memory over {mem['deliveries']:,} deliveries")

    setup = results["setup"]
    figure.suptitle(
        f"Signalpost bench {results['when']} — {setup['workers']}×{setup['concurrency']} threads,"
        f" medians of {setup['runs']} runs, scale {setup['scale']}"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
