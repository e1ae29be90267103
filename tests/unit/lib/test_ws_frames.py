"""Prebuilt WebSocket text frames are byte for byte what websockets itself would send."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from leaderboard.lib.ws_frames import text_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65_535, 65_536, 200_000])
def test_a_frame_of_any_length_is_what_websockets_serializes(size: int) -> None:
    text = ("é" * size)[:size]  # multi-byte characters: the length is in bytes
    expected = Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
    assert text_frame(text) == expected


def test_a_frame_is_built_once_per_text() -> None:
    text = '{"type":"rank_changed","id":"1-0"}'
    assert text_frame(text) is text_frame(str(text))
