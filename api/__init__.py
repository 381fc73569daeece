"""The staff HTTP API (FastAPI). `create_app()` is the composition root."""
