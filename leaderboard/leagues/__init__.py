"""Seasons and leagues: cohorts of a tier, zones, promotion and demotion (docs/leagues.md)."""
