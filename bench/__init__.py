"""`make bench`: Signalpost's real processes on this machine, measured (docs/performance.md)."""
