#!/usr/bin/env bash
# The main job: set up the environment, regenerate the bundled sample data and build every
# report in reports/ (see README). Extra arguments go to `collections-lab run-batch`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/collections-lab sample-data --out data/sample
.venv/bin/collections-lab run-batch reports/weekly.yml "$@"
