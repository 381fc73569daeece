"""The embedded development stack `kurator dev` runs: PostgreSQL and the Temporal dev server
from their wheels, then the worker and the API as child processes."""
