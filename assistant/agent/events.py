"""Wake-ups for live conversation streams, within one process or across workers.

The events themselves are rows in SQL (profiles.inbox); a bus only says "conversation X
has something new", so a stream reads the rows after its last id. In one process (the
embedded default) that is an asyncio event per stream; with `REDIS_URL` it is a Redis
pub/sub message, so a stream served by one worker wakes when another worker writes. A
stream subscribes before its first read, so no wake-up falls between a read and a wait;
if Redis fails, streams poll SQL instead."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

log = logging.getLogger("rapport.events")
CHANNEL = "rapport:conversation:"


class Listener(Protocol):
    async def wait(self, timeout: float) -> None:
        """Return when something was published since the last wait (at once if it
        already was), or after `timeout` seconds."""


class EventBus(Protocol):
    def publish(self, conversation_id: str) -> None:
        """Say that the conversation has new events (any thread)."""

    def listen(self, conversation_id: str) -> AbstractAsyncContextManager[Listener]:
        """A subscription for one stream, open before its first read, so nothing published
        between a read and the next wait is lost."""

    def close(self) -> None: ...


class _LocalListener:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout)
        self.event.clear()


class LocalBus:
    """One process: each stream's listener is an asyncio event, set on its own loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[str, set[_LocalListener]] = defaultdict(set)

    def publish(self, conversation_id: str) -> None:
        with self._lock:
            listeners = list(self._listeners.get(conversation_id, ()))
        for listener in listeners:
            with contextlib.suppress(RuntimeError):  # a closed loop: its stream is gone
                listener.loop.call_soon_threadsafe(listener.event.set)

    @contextlib.asynccontextmanager
    async def listen(self, conversation_id: str) -> AsyncIterator[Listener]:
        listener = _LocalListener()
        with self._lock:
            self._listeners[conversation_id].add(listener)
        try:
            yield listener
        finally:
            with self._lock:
                self._listeners[conversation_id].discard(listener)
                if not self._listeners[conversation_id]:
                    del self._listeners[conversation_id]

    def close(self) -> None:
        pass


class _RedisListener:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def wait(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while (left := deadline - loop.time()) > 0:
                msg = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
                if msg is not None:
                    # drain what else queued up: one read of SQL covers them all
                    while await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=0):
                        pass
                    return
        except Exception as exc:  # noqa: BLE001 — the stream polls instead
            log.warning("Redis wait failed, polling instead: %s", type(exc).__name__)
            await asyncio.sleep(min(left, 1.0))


class _PollingListener:
    async def wait(self, timeout: float) -> None:
        await asyncio.sleep(min(timeout, 1.0))


class RedisBus:
    """Across workers: PUBLISH on write, a SUBSCRIBE per stream. A Redis outage degrades
    to polling SQL every second, with a warning."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self._client: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def publish(self, conversation_id: str) -> None:
        try:
            self._client.publish(CHANNEL + conversation_id, b"1")
        except Exception as exc:  # noqa: BLE001 — streams poll anyway
            log.warning("could not publish a conversation event to Redis: %s", type(exc).__name__)

    @contextlib.asynccontextmanager
    async def listen(self, conversation_id: str) -> AsyncIterator[Listener]:
        import redis.asyncio as aredis

        client: Any = aredis.Redis.from_url(self.url, socket_connect_timeout=2)
        try:
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL + conversation_id)
            except Exception as exc:  # noqa: BLE001
                log.warning("Redis subscribe failed, polling instead: %s", type(exc).__name__)
                yield _PollingListener()
                return
            try:
                yield _RedisListener(pubsub)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
        finally:
            with contextlib.suppress(Exception):
                await client.aclose()

    def close(self) -> None:
        self._client.close()


def make_bus(redis_url: str | None) -> EventBus:
    return RedisBus(redis_url) if redis_url else LocalBus()
