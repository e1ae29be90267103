"""How a feature plugs into the service: one small, typed interface.

A feature folder has a ``feature.py`` that declares one :class:`Feature`: the HTTP handlers
it serves, a ``build`` function that makes its services (in a worker's :class:`Services`,
from the infrastructure and the services of features built before it), and the services
its handlers ask for by name (:class:`Provided`, beside the ``NamedDependency`` aliases in
its ``deps.py``). ``server/features.py`` lists the features in build order; the app takes
their handlers, the plugin their dependencies. Adding a feature is a folder and one line.

This module knows no feature: it is the shape they fill in.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

from litestar.types import ControllerRouterHandler

from leaderboard.lib.clock import Clock
from leaderboard.lib.db import Database
from leaderboard.lib.keys import Keys
from leaderboard.lib.redis_client import AnyRedis
from leaderboard.lib.replica import ReadReplica
from leaderboard.lib.scripts import ScriptPipeline
from leaderboard.lib.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Infrastructure:
    """What every feature may build on: one of each per worker."""

    db: Database
    redis: AnyRedis
    keys: Keys
    settings: Settings
    clock: Clock
    pipeline: ScriptPipeline
    """The worker's one script pipeline: concurrent calls of every feature share trips."""
    replica: ReadReplica
    """Reads that may go to a fenced standby (lib/replica.py); the primary without one."""


@runtime_checkable
class Background(Protocol):
    """A service with work of its own: started with the worker, stopped before it ends."""

    def start(self) -> None: ...


@runtime_checkable
class Closing(Protocol):
    async def close(self) -> None: ...


class Services:
    """A worker's services, one instance per class, made by the features in order.

    ``get(BoardService)`` is the one instance; a feature's build asks for what features
    built before it made. Services with ``start()`` start after every build; services
    with ``close()`` close in the reverse order of their making.
    """

    def __init__(self, infra: Infrastructure) -> None:
        self.infra = infra
        self._by_kind: dict[type[Any], Any] = {}
        self._made: list[Any] = []

    def add(self, service: T) -> T:
        kind = type(service)
        if kind in self._by_kind:
            raise ValueError(f"a {kind.__name__} was made already")
        self._by_kind[kind] = service
        self._made.append(service)
        return service

    def get(self, kind: type[T]) -> T:
        try:
            return cast("T", self._by_kind[kind])
        except KeyError:
            raise LookupError(
                f"no {kind.__name__}: the feature that makes it is built later, or not at all"
            ) from None

    def start(self) -> None:
        for service in self._made:
            if isinstance(service, Background):
                service.start()

    async def close(self) -> None:
        for service in reversed(self._made):
            if isinstance(service, Closing) and inspect.iscoroutinefunction(service.close):
                await service.close()


@dataclass(frozen=True, slots=True)
class Provided(Generic[T]):
    """A service that handlers ask for as a parameter ``name`` (``NamedDependency[kind]``)."""

    name: str
    kind: type[T]


def _nothing(_: Services) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Feature:
    """One feature: its handlers, how it builds its services, and what handlers may ask for."""

    name: str
    handlers: Sequence[ControllerRouterHandler] = ()
    build: Callable[[Services], None] = _nothing
    provides: Sequence[Provided[Any]] = field(default_factory=tuple)
