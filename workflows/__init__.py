"""Temporal workflow code only: deterministic, no I/O, no settings, no engines."""
