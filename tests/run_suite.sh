#!/usr/bin/env bash
# `make test`'s pytest runs (the Makefile passes the venv's bin, the process count and the
# user's arguments). Two runs:
#   1. everything not marked `timing`, on $2 processes (pytest-xdist; 0 runs it in this
#      process): most of the suite waits on servers and timers, so three processes on two
#      cores take about half the time of one;
#   2. the `timing` tests, which assert a wall-clock bound (a worker taking over within 5 s,
#      an answer within the update timeout), alone: under three processes' load a bound of
#      seconds measures the machine's contention, not Kurator.
# A run that selects no test (exit 5, e.g. PYTEST_ARGS naming one module) is not a failure as
# long as the other ran some.
#
# Each run's status is pytest's own verdict, which it records in .pytest-verdict
# (tests/conftest.py): the Python interpreter can abort at exit after a green run (an open
# Temporal SDK issue); only that case, a signal death after pytest reported success, is
# turned into success.
set -uo pipefail
bin=$1
workers=$2
shift 2

run_pytest() {
    rm -f .pytest-verdict
    "$bin/pytest" "$@"
    local status=$? verdict
    verdict=$(cat .pytest-verdict 2>/dev/null)
    if [ "$status" -ge 128 ] && [ "$verdict" = "0" ]; then
        echo "pytest passed; the interpreter then died with status $status at exit (known SDK issue), ignored"
        status=0
    fi
    return "$status"
}

run_pytest -n "$workers" --dist worksteal -m "not timing" "$@"
parallel=$?
echo "--- the timing-bound tests, alone ---"
run_pytest -p no:xdist -m timing "$@"
alone=$?

no_tests=5
if [ "$parallel" -eq "$no_tests" ] && [ "$alone" -eq "$no_tests" ]; then
    exit "$no_tests"
fi
for status in "$parallel" "$alone"; do
    if [ "$status" -ne 0 ] && [ "$status" -ne "$no_tests" ]; then
        exit "$status"
    fi
done
exit 0
