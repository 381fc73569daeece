"""A process's garbage collector, set once before it serves (`kurator api`, `kurator worker`).

CPython starts a collection every 700 new container objects (tuples, lists, dicts) by
default, and every so often one that walks the whole heap: the modules, schemas and mappers
the process holds for its lifetime, several hundred thousand objects, and in a worker its
cached cases too. Both processes make short-lived objects by the million (an export's rows;
a step's payloads, pydantic models and protobuf messages), so the collector ran thousands of
times for nothing to free, each time pausing everything else in the process:

- the API: a sixth of a streamed export's CPU (in process, 371,733 lines: 18.4 to 19.8 µs a
  line with the defaults, 14.8 to 17.8 with the settings below, on a shared machine);
- the worker: the tail of a step's latency (`make bench`, the bench process hosting both
  sides' workers: step p99 1.39-1.84x bare's with the defaults, 1.04-1.28x with these; both
  sides' throughput up a tenth).
"""

import gc

# New container objects between two collections of the youngest generation: a few MB at
# most held before the collection that frees the unreachable ones among them.
YOUNG_GENERATION_THRESHOLD = 10_000


def tune_collector() -> None:
    """Moves what exists now (what importing and building the app made, kept for the process's
    lifetime) out of the collector's walks, and collects the youngest generation less often;
    the older generations' ratios stay CPython's."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)
