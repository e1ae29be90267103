"""Leaderboards: each board's configuration (scores: the write path; ranking: the reads)."""
