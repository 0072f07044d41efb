"""Token buckets per learner for demo runs: in memory, or shared through Redis."""

import logging
import math
import threading
import time
from typing import Any

log = logging.getLogger("backprop.demos")

# --- rate limiting ---------------------------------------------------------------------


class RateLimiter:
    """A token bucket per learner: ``burst`` runs at once, refilled at ``per_minute``."""

    def __init__(self, per_minute: float = 30, burst: int = 10) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> int:
        """0 if allowed, else seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                if len(self._buckets) > 10000:
                    self._buckets.clear()  # bounded memory; a reset only forgives
                return 0
            self._buckets[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate)) if self.rate > 0 else 60


_BUCKET_LUA = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / math.max(rate, 0.001)) + 60)
return {allowed, tostring(tokens)}
"""


class RedisRateLimiter:
    """The same token bucket, kept in Redis, so every web process shares one bucket per
    learner. Used with the queue backend (Redis is there anyway). Redis's own clock
    (TIME) is used, so web hosts with skewed clocks agree. If Redis cannot be reached it
    lets the request through: starting the run then fails with the queue's clear error.
    """

    def __init__(self, client: Any, prefix: str, per_minute: float = 30, burst: int = 10) -> None:
        self.client = client
        self.prefix = prefix
        self.rate = per_minute / 60.0
        self.burst = burst
        self._script = client.register_script(_BUCKET_LUA)

    def acquire(self, key: str) -> int:
        """0 if allowed, else seconds to wait."""
        try:
            seconds, micros = self.client.time()
            now = seconds + micros / 1e6
            allowed, tokens = self._script(
                keys=[f"{self.prefix}:bucket:{key}"], args=[self.burst, self.rate, now]
            )
        except Exception as exc:  # redis.RedisError; no redis import in services
            log.warning("demo rate limit skipped, Redis unreachable: %s", exc)
            return 0
        if int(allowed):
            return 0
        if self.rate <= 0:
            return 60
        return max(1, math.ceil((1 - float(tokens)) / self.rate))
