"""Lua scripts: one loader, and one pipeline that every script call of a worker goes through.

Loading: :class:`LuaScript` reads a ``.lua`` file that sits beside the module using it
(``LuaScript.load(__package__, "index_apply.lua", prelude=["index_common.lua"])``); prelude
files (of the same package, or ``"other.package:file.lua"``) are prepended, since a Redis
script cannot import another, and so are ``constants`` the Python side defines (one source
for a value both sides use).
Each script's header states its KEYS, ARGV and reply; each feature wraps its scripts in
typed methods that own that order (``IndexScripts.apply``, ``SessionStore.create`` …), so no
call site builds an ARGV list.

Running: redis-py sends each command in its own round trip, and each round trip costs the
worker ~240 µs of CPU (docs/benchmarks.md), which is what bounds a worker's throughput.
Every script call goes through :class:`ScriptPipeline`: calls made while a pipeline is out
leave together in the next one (:class:`leaderboard.lib.batching.Batcher`). Each call still
runs atomically on the server (a script is atomic); calls of a batch are not atomic
together, and need not be.

The pipeline sends ``EVALSHA`` alone: redis-py's pipelines would check ``SCRIPT EXISTS``
first, one more round trip per batch. A call answered ``NOSCRIPT`` (a restarted or
failed-over server) runs again through its ``Script`` object, which loads the source.
On a Redis Cluster, redis-py's cluster pipeline sends one batch per node; it refuses
``EVALSHA``, so there the pipeline sends ``EVAL`` with the source (a few KB per call).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any, cast

from redis.asyncio import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from leaderboard.lib.batching import Batcher
from leaderboard.lib.redis_client import AnyRedis

ScriptArg = str | int | float


@dataclass(frozen=True, slots=True)
class LuaScript:
    """The source of one script, named after its file."""

    name: str
    source: str

    @classmethod
    def load(
        cls,
        package: str | None,
        name: str,
        *,
        prelude: Sequence[str] = (),
        constants: Mapping[str, str] | None = None,
    ) -> LuaScript:
        """The file ``name`` of ``package`` (``__package__``), after its preludes, if any.

        A prelude is a file of the same package, or ``"package:file.lua"`` of another.
        ``constants`` become ``local NAME = 'value'`` lines before everything else.
        """
        if package is None:
            raise ValueError("LuaScript.load needs the package its file lives in")
        parts = [f"local {key} = '{value}'\n" for key, value in (constants or {}).items()]
        for item in [*prelude, name]:
            owner, _, file = item.rpartition(":")
            parts.append(files(owner or package).joinpath(file).read_text(encoding="utf-8"))
        return cls(name, "".join(parts))


@dataclass(frozen=True, slots=True)
class ScriptCall:
    script: AsyncScript
    keys: Sequence[str]
    args: Sequence[ScriptArg]


class BoundScript:
    """A script registered on the worker's client; calls leave through the pipeline."""

    def __init__(self, pipeline: ScriptPipeline, script: LuaScript) -> None:
        self.name = script.name
        self._pipeline = pipeline
        self._script = pipeline.redis.register_script(script.source)

    async def __call__(self, keys: Sequence[str], args: Sequence[ScriptArg]) -> Any:
        """The script's reply; Redis errors raise as from a plain ``EVALSHA``."""
        return await self._pipeline.batcher(ScriptCall(self._script, keys, args))

    def call(self, keys: Sequence[str], args: Sequence[ScriptArg]) -> ScriptCall:
        """A call of the script, to send with others (:meth:`ScriptPipeline.together`)."""
        return ScriptCall(self._script, keys, args)


class ScriptPipeline:
    """One per worker, shared by every service that runs scripts."""

    def __init__(self, redis: AnyRedis, *, max_batch: int = 128, max_in_flight: int = 2) -> None:
        self.redis = redis
        self._cluster = isinstance(redis, RedisCluster)
        self.batcher: Batcher[ScriptCall, Any] = Batcher(
            self._run_batch, name="redis_scripts", max_batch=max_batch, max_in_flight=max_in_flight
        )

    def bind(self, script: LuaScript) -> BoundScript:
        return BoundScript(self, script)

    async def together(self, *calls: ScriptCall) -> list[Any]:
        """The replies of ``calls``, sent in one round trip; a Redis error in its place."""
        return await self.batcher.many(list(calls))

    async def _run_batch(self, calls: list[ScriptCall]) -> list[Any]:
        if len(calls) == 1:  # a pipeline of one costs more than the plain call
            (call,) = calls
            return [await call.script(keys=call.keys, args=call.args)]
        pipe = self.redis.pipeline(transaction=False)
        for call in calls:
            if self._cluster:
                # redis-py's cluster pipeline refuses EVALSHA; EVAL sends the source.
                pipe.eval(cast("str", call.script.script), len(call.keys), *call.keys, *call.args)
            else:
                pipe.evalsha(call.script.sha, len(call.keys), *call.keys, *call.args)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
        for i, (call, reply) in enumerate(zip(calls, replies, strict=True)):
            if isinstance(reply, NoScriptError):
                try:
                    replies[i] = await call.script(keys=call.keys, args=call.args)
                except Exception as exc:  # raised to this call's caller alone
                    replies[i] = exc
        return replies
