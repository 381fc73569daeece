"""Alembic owns the schema. A package so the migration scripts ship with Kurator."""
