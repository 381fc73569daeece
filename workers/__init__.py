"""Kurator's processes: the worker (`worker.py`) and the `kurator` command line (`cli.py`),
with the tools the command line runs, each in a package of its own: the embedded dev stack
(`devstack/`), the demo (`demo/`) and the benchmark (`bench/`).

These are composition roots: settings become engines, clients and workers here, and nowhere
at import time.
"""
