"""What each bench figure should reach: read by the table (report) and the chart alike."""

# The targets of issue 8, for this 2-core machine.
TARGETS = {
    "ratio": 0.5,
    "p50_ms": 50,
    "p99_ms": 250,
    "fan_out_10_trigger_ms": 20,
    "isolation_p99_ms": 2000,
    "logs_first_ms": 50,
    "logs_deep_ms": 100,
    "rss_growth": 0.10,
}
