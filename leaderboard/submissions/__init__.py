"""Verified results: the submission ledger's reads, the review queue, and voids."""
