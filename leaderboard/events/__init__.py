"""Rank-change events: published by the score script, delivered over pub/sub, WS and SSE."""
