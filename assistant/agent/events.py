"""Wake-ups for live conversation streams, within one process or across workers.

The events themselves are rows in SQL (profiles.inbox); a bus only says "conversation X
has something new", so a stream reads the rows after its last id. In one process (the
embedded default) that is an asyncio event per listener; with `REDIS_URL` it is a Redis
pub/sub message, so a stream served by one worker wakes when another worker writes. A
lost wake-up costs at most one poll interval, never an event."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from typing import Any, Protocol

log = logging.getLogger("rapport.events")
CHANNEL = "rapport:conversation:"


class EventBus(Protocol):
    def publish(self, conversation_id: str) -> None:
        """Say that the conversation has new events (any thread)."""

    async def wait(self, conversation_id: str, timeout: float) -> None:
        """Return when the conversation has new events, or after `timeout` seconds."""

    def close(self) -> None: ...


class LocalBus:
    """One process: listeners are asyncio events, woken on their own loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[str, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = (
            defaultdict(set)
        )

    def publish(self, conversation_id: str) -> None:
        with self._lock:
            listeners = list(self._listeners.get(conversation_id, ()))
        for loop, event in listeners:
            with contextlib.suppress(RuntimeError):  # a closed loop: its stream is gone
                loop.call_soon_threadsafe(event.set)

    async def wait(self, conversation_id: str, timeout: float) -> None:
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._listeners[conversation_id].add(entry)
        try:
            await asyncio.wait_for(entry[1].wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._listeners[conversation_id].discard(entry)
                if not self._listeners[conversation_id]:
                    del self._listeners[conversation_id]

    def close(self) -> None:
        pass


class RedisBus:
    """Across workers: PUBLISH on write, a per-stream SUBSCRIBE to wait. A Redis outage
    degrades to polling (the stream re-reads SQL every interval) with a warning."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self._client: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def publish(self, conversation_id: str) -> None:
        try:
            self._client.publish(CHANNEL + conversation_id, b"1")
        except Exception as exc:  # noqa: BLE001 — a stream polls anyway
            log.warning("could not publish a conversation event to Redis: %s", type(exc).__name__)

    async def wait(self, conversation_id: str, timeout: float) -> None:
        import redis.asyncio as aredis

        client: Any = aredis.Redis.from_url(self.url, socket_connect_timeout=2)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(CHANNEL + conversation_id)
                loop = asyncio.get_running_loop()
                deadline = loop.time() + timeout
                while (left := deadline - loop.time()) > 0:
                    msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
                    if msg is not None:
                        return
        except Exception as exc:  # noqa: BLE001
            log.warning("Redis wait failed, polling instead: %s", type(exc).__name__)
            await asyncio.sleep(min(timeout, 1.0))
        finally:
            await client.aclose()

    def close(self) -> None:
        self._client.close()


def make_bus(redis_url: str | None) -> EventBus:
    return RedisBus(redis_url) if redis_url else LocalBus()
