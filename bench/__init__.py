"""The leaderboard benchmark (issue 8): `bash bench/run.sh [--quick|--smoke]`.

What it measures: docs/benchmarks.md.
"""
