"""Shared test helpers: real servers (embedded PostgreSQL, Temporal test and dev servers)."""
