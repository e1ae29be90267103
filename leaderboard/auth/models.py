"""Request and response bodies of the auth endpoints."""

from __future__ import annotations

from datetime import datetime

import msgspec

from leaderboard.players.models import DeviceId, DisplayName


class DeviceAuthRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    device_id: DeviceId
    display_name: DisplayName | None = None


class DeviceAuthResponse(msgspec.Struct, kw_only=True):
    player_id: str
    token: str
    expires_at: datetime
    created: bool
