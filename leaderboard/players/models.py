"""Request and response bodies of the player endpoints, and what a display name may hold."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from leaderboard.lib.errors import InvalidInputError

DISPLAY_NAME_MAX_LENGTH = 64

DisplayName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=DISPLAY_NAME_MAX_LENGTH,
        # The characters a name may not hold are checked by check_display_name (a regex
        # listing every format character would be unreadable in a 400's detail).
        description=f"1 to {DISPLAY_NAME_MAX_LENGTH} characters, not blank; no control or "
        "format characters (bidi overrides and isolates, zero-width characters, U+FEFF) "
        "and no line or paragraph separators",
    ),
]
DeviceId = Annotated[
    str,
    Meta(
        min_length=8,
        max_length=128,
        description="A stable, secret identifier of the device (8 to 128 characters)",
    ),
]
AvatarUrl = Annotated[str, Meta(max_length=512, description="An http(s) URL, ≤ 512 characters")]
CountryCode = Annotated[
    str, Meta(pattern=r"^[A-Z]{2}\Z", description="ISO 3166-1 alpha-2 code, e.g. DE")
]

# Unicode categories a display name must not contain. Names are shown to other players
# on leaderboards, in logs and in game UIs: control characters (Cc, incl. U+0085) and
# line/paragraph separators (Zl U+2028, Zp U+2029) break lines and logs; format
# characters (Cf) are invisible and let a name impersonate another: bidi overrides and
# isolates (U+202A..U+202E, U+2066..U+2069) reorder what follows them, zero-width
# characters (U+200B..U+200F, U+2060, U+FEFF) make look-alikes of existing names. Lone
# surrogates (Cs) cannot be stored. By category rather than by list, so that format
# characters added to Unicode later are refused too.
_REFUSED_CATEGORIES = {"Cc": "control", "Cf": "format", "Zl": "line separator",
                       "Zp": "paragraph separator", "Cs": "surrogate"}  # fmt: skip


def check_display_name(name: str, field: str = "display_name") -> None:
    """Raise a 400 naming ``field`` for a blank name or one holding a refused character."""
    for position, char in enumerate(name):
        kind = _REFUSED_CATEGORIES.get(unicodedata.category(char))
        if kind is not None:
            raise InvalidInputError(
                field,
                f"must not contain {kind} characters (U+{ord(char):04X} at position {position})",
            )
    if not name.strip():
        raise InvalidInputError(field, "must not be blank")


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


class PlayerCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A player created by the admin (a game server, a tool, the demo), not by a device.

    With ``device_id``, a later device sign-in with that id signs in as this player;
    without, no device can (the game server acts for the player with the admin token).
    """

    display_name: DisplayName | None = None
    """Default: ``Player-`` and the first 8 characters of the id."""
    device_id: DeviceId | None = None
    avatar_url: AvatarUrl | None = None
    country: CountryCode | None = None
    metadata: dict[str, Any] | None = None


class DeviceAuthRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    device_id: DeviceId
    display_name: DisplayName | None = None


class DeviceAuthResponse(msgspec.Struct, kw_only=True):
    player_id: str
    token: str
    expires_at: datetime
    created: bool
