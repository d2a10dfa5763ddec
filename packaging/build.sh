#!/usr/bin/env bash
# Build the wheel and source distribution into dist/ from a clean checkout.
# (A frozen desktop bundle — PyInstaller — joins this script with the GUI.)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
rm -rf build dist
"$PYTHON" -m pip wheel --no-deps --wheel-dir dist . >/dev/null
echo "built: $(ls dist)"
