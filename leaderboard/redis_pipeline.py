"""Run the Lua scripts of concurrent requests in one Redis pipeline (auto-pipelining).

redis-py sends each command in its own round trip, and each round trip costs the worker
~240 µs of CPU (docs/benchmarks.md), which is what bounds a worker's throughput. Every
script call of the service goes through :class:`ScriptPipeline`: calls made while a
pipeline is out leave together in the next one (:class:`leaderboard.batching.Batcher`).
Each call still runs atomically on the server (a script is atomic); calls of a batch are
not atomic together, and need not be.

The pipeline sends ``EVALSHA`` alone: redis-py's pipelines would check ``SCRIPT EXISTS``
first, one more round trip per batch. A call answered ``NOSCRIPT`` (a restarted or
failed-over server) runs again through its ``Script`` object, which loads the source.
On a Redis Cluster, redis-py's cluster pipeline sends one batch per node; it refuses
``EVALSHA``, so there the pipeline sends ``EVAL`` with the source (a few KB per call).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from leaderboard.batching import Batcher
from leaderboard.redis_client import AnyRedis

ScriptArg = str | int | float


@dataclass(frozen=True, slots=True)
class ScriptCall:
    script: AsyncScript
    keys: Sequence[str]
    args: Sequence[ScriptArg]


class ScriptPipeline:
    """One per worker, shared by every service that runs scripts."""

    def __init__(self, redis: AnyRedis, *, max_batch: int = 128, max_in_flight: int = 2) -> None:
        self.redis = redis
        self._cluster = isinstance(redis, RedisCluster)
        self.batcher: Batcher[ScriptCall, Any] = Batcher(
            self._run_batch, name="redis_scripts", max_batch=max_batch, max_in_flight=max_in_flight
        )

    def register(self, source: str) -> AsyncScript:
        return self.redis.register_script(source)

    async def run(self, script: AsyncScript, keys: Sequence[str], args: Sequence[ScriptArg]) -> Any:
        """The script's reply; Redis errors raise as from ``script(keys, args)``."""
        return await self.batcher(ScriptCall(script, keys, args))

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
