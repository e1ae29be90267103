"""Player profiles: Postgres, a Redis cache, bans, device sign-in."""
