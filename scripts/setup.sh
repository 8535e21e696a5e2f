#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install the project
# with its dev extra and the spark extra (pyspark: the engine tests run Spark local mode). Needs only Python 3.11+ with pip and venv. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev,spark]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
