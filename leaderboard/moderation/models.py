"""Request bodies of the moderation endpoints (their event: events.models.EntryRemoved)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class BanRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=500)] | None = None
    """Why, for the audit log and other moderators; never shown to players."""
