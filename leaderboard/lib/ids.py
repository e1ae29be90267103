"""Player ids: UUIDs, always handled in their canonical string form."""

from __future__ import annotations

import uuid

from leaderboard.lib.errors import NotFoundError


def canonical_player_id(player_id: str) -> str:
    """The canonical UUID string; NotFoundError for anything that is not a UUID."""
    try:
        return str(uuid.UUID(player_id))
    except ValueError:
        raise NotFoundError(f"no player with id {player_id[:64]!r}") from None
