"""Profile fields, checked beyond what the request Structs' constraints express."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from leaderboard.lib.errors import InvalidInputError
from leaderboard.lib.validation import check_metadata
from leaderboard.players.countries import ISO_3166_ALPHA_2
from leaderboard.players.models import ProfilePatch, check_display_name


def validate_patch(patch: ProfilePatch) -> dict[str, Any]:
    """The columns to set, checked beyond what the Struct's constraints express."""
    changes = patch.changes()
    if not changes:
        raise InvalidInputError(
            "body", "nothing to change: send display_name, avatar_url, country or metadata"
        )
    return validate_fields(changes)


def validate_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Profile columns (any of display_name, avatar_url, country, metadata), checked.

    A 400 names the first bad field. None (clear the optional ones) passes; None metadata
    becomes ``{}``, as the column holds an object.
    """
    name = fields.get("display_name")
    if name is not None:
        check_display_name(name)
    url = fields.get("avatar_url")
    if url is not None:
        try:
            parts = urlsplit(url)
        except ValueError:
            parts = urlsplit("")
        if parts.scheme not in {"http", "https"} or not parts.netloc or "\x00" in url:
            raise InvalidInputError("avatar_url", "must be an http:// or https:// URL")
    country = fields.get("country")
    if country is not None and country not in ISO_3166_ALPHA_2:
        raise InvalidInputError("country", f"{country!r} is not an ISO 3166-1 alpha-2 code")
    if "metadata" in fields:
        metadata = fields["metadata"] if fields["metadata"] is not None else {}
        check_metadata("metadata", metadata)
        fields["metadata"] = metadata
    return fields
