"""Infrastructure both composition roots share (the worker in workers/, the API in api/):
logging, the Temporal client and its data converter, migrations, readiness probes, and how
clients address case workflows. Neither root imports the other; both import this."""
