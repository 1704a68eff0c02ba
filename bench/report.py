"""The bench's outputs: a table on stdout, bench/results.json, and docs/img/bench.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.targets import TARGETS

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
CHART = HERE.parent / "docs" / "img" / "bench.png"
DOC = HERE.parent / "docs" / "performance.md"


def rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, measured, target) for each figure."""
    out: list[tuple[str, str, str]] = []
    t = results.get("throughput")
    if t:
        out += [
            ("throughput, deliveries/s (end to end)", f"{t['deliveries_per_s']['median']:.0f}", ""),
            ("ceiling, POSTs/s (requests.Session)", f"{t['ceiling_per_s']['median']:.0f}", ""),
            ("ratio to the ceiling", f"{t['ratio']['median']:.2f}", f"≥ {TARGETS['ratio']}"),
            ("trigger calls/s (4 threads)", f"{t['triggers_per_s']['median']:.0f}", ""),
        ]
        out += [
            (f"CPU ms per delivery: {part}", f"{figures['median']:.2f}", "")
            for part, figures in t["cpu_ms_per_delivery"].items()
        ]
        alone = t["attempt_delivery_alone"]
        out += [
            ("CPU ms per POST in the ceiling loop", f"{t['ceiling_cpu_ms_per_post']['median']:.2f}",
             ""),
            ("attempt_delivery alone, one thread: CPU / wall ms",
             f"{alone['cpu_ms']:.2f} / {alone['wall_ms']:.2f}", ""),
        ]  # fmt: skip
    lat = results.get("latency")
    if lat:
        out += [
            (f"latency p50 at {lat['rate_per_s']:.0f}/s", f"{lat['p50_ms']['median']:.1f} ms",
             f"< {TARGETS['p50_ms']} ms"),
            (f"latency p99 at {lat['rate_per_s']:.0f}/s", f"{lat['p99_ms']['median']:.1f} ms",
             f"< {TARGETS['p99_ms']} ms"),
        ]  # fmt: skip
    client = results.get("client")
    if client:
        at = f"at {client['rate_per_s']:.0f}/s"
        out += [
            (f"client events.send p50 / p99 {at}",
             f"{client['send_p50_ms']['median']:.1f} / {client['send_p99_ms']['median']:.1f} ms",
             ""),
            (f"client send → receiver p50 / p99 {at}",
             f"{client['end_to_end_p50_ms']['median']:.1f}"
             f" / {client['end_to_end_p99_ms']['median']:.1f} ms", ""),
            ("idempotency key: ms added to a call (p50)",
             f"{client['key_cost_ms']['median']:.2f} ms", ""),
        ]  # fmt: skip
    chat = results.get("digests")
    if chat:
        for format_name, figures in chat.items():
            on, off = figures["with_digests"], figures["without_digests"]
            at = f"{on['alerts']} alerts to {format_name} at {figures['budget']}"
            out += [
                (f"{at}: messages, digests on / off", f"{on['messages']} / {off['messages']}", ""),
                (f"{at}: to the last alert, on / off",
                 f"{on['seconds_to_last_alert']:.0f} / {off['seconds_to_last_alert']:.0f} s", ""),
            ]  # fmt: skip
    iso = results.get("isolation")
    if iso:
        out.append(
            (
                f"isolation: healthy p99, {iso['hanging_share']:.0%} hanging",
                f"{iso['healthy_p99_ms']['median']:.0f} ms",
                f"< {TARGETS['isolation_p99_ms']} ms",
            )
        )
    soak = results.get("soak")
    if soak:
        start, end = soak["start"], soak["end"]
        out += [
            (f"soak: {soak['events']} events in {soak['seconds']:.0f} s, lost",
             str(soak["lost"]), "0"),
            ("soak: healthy p50 / p99", f"{soak['healthy_p50_ms']:.0f} / "
             f"{soak['healthy_p99_ms']:.0f} ms", ""),
            ("soak: worker RSS start → end",
             f"{start['worker_rss_mb']} → {end['worker_rss_mb']} MB", ""),
            ("soak: queue depth start → end (max)",
             f"{sum(start['queue_depth'].values())} → {sum(end['queue_depth'].values())} "
             f"({soak['max_queue_depth']})", ""),
            ("soak: overdue start → end (max)",
             f"{start['overdue']} → {end['overdue']} ({soak['max_overdue']})", "0"),
            ("soak: database size start → end",
             f"{start['database_mb']} → {end['database_mb']} MB", ""),
            ("soak: webhooks disabled at the end", str(end["webhooks_disabled"]), ""),
        ]  # fmt: skip
    fan = results.get("fan_out")
    if fan:
        for label, key in (
            ("few webhooks", "small_database"),
            ("big database", "large_database"),
            ("big database, every webhook filtered", "large_database_filtered"),
        ):
            for size, figures in fan.get(key, {}).items():
                target = f"< {TARGETS['fan_out_10_trigger_ms']} ms" if str(size) == "10" else ""
                out.append(
                    (
                        f"fan-out {size} ({label}): trigger call / last delivery",
                        f"{figures['trigger_ms']['median']:.1f} ms"
                        f" ({figures['trigger_cpu_ms']['median']:.1f} ms CPU) / "
                        f"{figures['last_delivery_s']['median']:.2f} s",
                        target if key.startswith("large_database") else "",
                    )
                )
    for name, logs in results.get("logs", {}).items():
        first, deep = f"< {TARGETS['logs_first_ms']} ms", f"< {TARGETS['logs_deep_ms']} ms"
        what = f"logs of a {name} webhook ({logs['deliveries_of_webhook']:,} deliveries)"
        out += [
            (f"{what}: API, first page", f"{logs['api_first_ms']['median']:.1f} ms", first),
            (f"{what}: API, {logs['api_depth_pages']} pages deep",
             f"{logs['api_deep_ms']['median']:.1f} ms", deep),
            (f"{what}: page, first page", f"{logs['page_first_ms']['median']:.1f} ms", first),
            (f"{what}: page, {logs['page_depth_pages']} pages deep",
             f"{logs['page_deep_ms']['median']:.1f} ms", deep),
            (f"{what}: page, failed only (1%)",
             f"{logs['page_failed_only_ms']['median']:.1f} ms", first),
            (f"{what}: page, the event type of every delivery",
             f"{logs['page_event_type_ms']['median']:.1f} ms", first),
            (f"{what}: page, an event type it never received",
             f"{logs['page_other_event_type_ms']['median']:.1f} ms", first),
        ]  # fmt: skip
    mem = results.get("memory")
    if mem:
        pairs = zip(mem["rss_before_mb"], mem["rss_after_mb"], strict=True)
        out.append(
            (
                f"worker RSS, MB, over {mem['deliveries']:,} deliveries",
                " ".join(f"{a}→{b}" for a, b in pairs) + f" (+{mem['max_growth']:.1%})",
                f"< {TARGETS['rss_growth']:.0%}",
            )
        )
    return out


def table(results: dict[str, Any]) -> str:
    lines = rows(results)
    widths = [max(len(row[i]) for row in lines) for i in range(3)]
    header = ("figure", "measured (median)", "target")
    widths = [max(width, len(title)) for width, title in zip(widths, header, strict=True)]

    def line(cells: tuple[str, str, str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([line(header), rule, *(line(row) for row in lines)])


def conditions(results: dict[str, Any]) -> str:
    machine, setup = results["machine"], results["setup"]
    return (
        f"run {results['when']} in {results['seconds']} s on {machine['cpus']} cores, Python"
        f" {machine['python']}; load average {machine['load_average_at_start']:.1f} at the start"
        f" and {machine['load_average_at_end']:.1f} at the end (the bench's own busy threads count"
        f" in the second; the first shows what else was running); {setup['workers']} workers"
        f" × {setup['concurrency']} threads, scale {setup['scale']}, medians of {setup['runs']}"
        " runs."
    )


def cpu_split(results: dict[str, Any]) -> str:
    t = results["throughput"]
    rows = [(part, figures["median"]) for part, figures in t["cpu_ms_per_delivery"].items()]
    rows += [
        ("one POST in the ceiling loop, for comparison", t["ceiling_cpu_ms_per_post"]["median"]),
        ("`attempt_delivery` alone, one thread, no Celery", t["attempt_delivery_alone"]["cpu_ms"]),
    ]
    lines = ["| part | CPU ms per delivery |", "| --- | --- |"]
    return "\n".join(lines + [f"| {part} | {value:.2f} |" for part, value in rows])


def update_doc(results: dict[str, Any]) -> None:
    """Refresh the generated blocks of docs/performance.md (between `<!-- bench:NAME -->`
    and `<!-- /bench:NAME -->`), so the page always shows the last run's figures."""
    text = DOC.read_text()
    blocks = {"figures": table(results), "conditions": conditions(results),
              "cpu": cpu_split(results)}  # fmt: skip
    for name, content in blocks.items():
        start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
        if start in text and end in text:
            before, _, rest = text.partition(start)
            _, _, after = rest.partition(end)
            text = f"{before}{start}\n{content}\n{end}{after}"
    DOC.write_text(text)


def write(results: dict[str, Any]) -> None:
    print(table(results))
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(HERE.parent)}")
    from bench.chart import draw

    draw(results, CHART)
    print(f"wrote {CHART.relative_to(HERE.parent)}")
    update_doc(results)
    print(f"updated {DOC.relative_to(HERE.parent)}")


if __name__ == "__main__":
    # The last run's table again, and docs/performance.md refreshed from it.
    last = json.loads(RESULTS.read_text())
    print(table(last))
    update_doc(last)
