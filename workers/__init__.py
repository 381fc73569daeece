"""Kurator's processes: the worker, the `kurator` command line and the embedded dev stack.

These are composition roots: settings become engines, clients and workers here, and nowhere
at import time.
"""
