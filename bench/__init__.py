"""The leaderboard benchmark (issue 8): `bash bench/run.sh [--quick]`, see docs/benchmarks.md."""
