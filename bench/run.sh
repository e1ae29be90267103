#!/usr/bin/env bash
# The leaderboard benchmark (docs/benchmarks.md): `bash bench/run.sh [--quick|--smoke] [options]`.
# matplotlib (the plot) and py-spy (the profile) come from the `bench` dependency group.
set -euo pipefail
cd "$(dirname "$0")/.."
exec uv run --group bench python -m bench "$@"
