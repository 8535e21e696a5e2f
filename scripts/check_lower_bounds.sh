#!/usr/bin/env bash
# Check the lower bounds in pyproject.toml: install every dependency at exactly its
# declared minimum in a separate environment (.venv-min) and run the test suite there.
# Run by hand when a bound changes; record the outcome in benchmarks/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
rm -rf .venv-min
"$PYTHON" -m venv .venv-min
"$PYTHON" - > .venv-min/minimums.txt <<'PY'
import re, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
for req in project["dependencies"]:
    name, low = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([^,;\s]+)", req).groups()
    print(f"{name}=={low}")
PY
echo "installing the declared minimums:"; cat .venv-min/minimums.txt
.venv-min/bin/python -m pip install --quiet --upgrade pip
.venv-min/bin/python -m pip install --quiet -c .venv-min/minimums.txt -e '.[dev]'
.venv-min/bin/python -m pip list 2>/dev/null | grep -iE "^(numpy|pandas|scipy|statsmodels|scikit-learn|lifelines|matplotlib|seaborn|papermill|nbconvert|ipykernel|duckdb|pyarrow) "
.venv-min/bin/python -m pytest -n 2 -q -p no:cacheprovider "$@"
