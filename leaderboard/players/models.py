"""Request and response bodies of the player endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

DisplayName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        # No control characters (they break leaderboards and logs).
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="1 to 64 characters, no control characters",
    ),
]
AvatarUrl = Annotated[str, Meta(max_length=512, description="An http(s) URL, ≤ 512 characters")]
CountryCode = Annotated[
    str, Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. DE")
]


class Profile(msgspec.Struct, kw_only=True):
    player_id: str
    display_name: str
    avatar_url: str | None
    country: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    version: int
    """Grows by one on every change (an extension of the contract)."""


class ProfilePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; absent fields stay as they are, null clears the optional ones."""

    display_name: DisplayName | UnsetType = UNSET
    avatar_url: AvatarUrl | UnsetType | None = UNSET
    country: CountryCode | UnsetType | None = UNSET
    metadata: dict[str, Any] | UnsetType | None = UNSET

    def changes(self) -> dict[str, Any]:
        return {
            field: value
            for field in self.__struct_fields__
            if (value := getattr(self, field)) is not UNSET
        }
