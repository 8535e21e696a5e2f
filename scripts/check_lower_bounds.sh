#!/usr/bin/env bash
# Check the lower bounds in pyproject.toml: install every runtime dependency and every
# dependency of the dev extra (pytest, ruff, ...) at exactly its declared minimum in a
# separate environment (.venv-min), then run ruff and the normal test suite there (slow
# conformance runs stay skipped unless you pass --runslow).
# Run by hand when a bound changes; record the outcome in benchmarks/RESULTS.md
# ("Dependency lower bounds"). tests/test_packaging.py runs the constraint block below and
# checks it pins exactly pyproject's floors, so the two stay in step.
#
#   bash scripts/check_lower_bounds.sh [pytest args]     # e.g. -x, or -k simulate
#   PYTHON=python3.11 WORKERS=1 bash scripts/check_lower_bounds.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WORKERS=${WORKERS:-2}
rm -rf .venv-min
"$PYTHON" -m venv .venv-min
# BEGIN constraints: one "name==floor" line per runtime and dev dependency of pyproject.toml
"$PYTHON" - > .venv-min/minimums.txt <<'PY'
import re, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for req in project["dependencies"] + project["optional-dependencies"]["dev"]:
    found = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([^,;\s]+)", req)
    if found is None:
        raise SystemExit(f"pyproject.toml: {req!r} has no '>=' lower bound to check")
    print("{}=={}".format(*found.groups()))
PY
# END constraints
echo "installing the declared minimums:"; cat .venv-min/minimums.txt
.venv-min/bin/python -m pip install --quiet --upgrade pip
.venv-min/bin/python -m pip install --quiet -c .venv-min/minimums.txt -e '.[dev]'
echo "installed ($("$PYTHON" --version), $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ)):"
.venv-min/bin/python -m pip list --format=freeze 2>/dev/null \
  | grep -iE "^($(cut -d= -f1 .venv-min/minimums.txt | paste -sd'|'))=="
status=0
.venv-min/bin/ruff check src tests benchmarks || status=$?
.venv-min/bin/python -m pytest -n "$WORKERS" -q -p no:cacheprovider "$@" || status=$?
exit "$status"
