"""Workflow-safe payloads: pydantic models that travel through Temporal. No tables here."""
