"""Ranks: the Redis index behind one façade (index.py), and the ranked reads."""
