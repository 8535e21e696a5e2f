#!/usr/bin/env bash
# Set up the environment and run the test suite (ruff, then pytest on 2 workers).
# Long conformance runs are marked `slow` and run by hand with: scripts/test.sh --runslow
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check src tests benchmarks
.venv/bin/python -m pytest -n 2 -q --durations=15 "$@"
