"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta

from leaderboard.players.models import DisplayName

DeviceId = Annotated[
    str,
    Meta(
        min_length=8,
        max_length=128,
        description="A stable, secret identifier of the device (8 to 128 characters)",
    ),
]


class DeviceAuthRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    device_id: DeviceId
    display_name: DisplayName | None = None


class DeviceAuthResponse(msgspec.Struct, kw_only=True):
    player_id: str
    token: str
    expires_at: datetime
    created: bool
