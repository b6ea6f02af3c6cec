"""The Lua scripts every throttling decision runs in Redis: check and record in one atomic step.

Time is Redis's (``TIME``), never a replica's clock. Redis runs one script at a time, so two
replicas racing on one account or address cannot both slip under a limit: each script reads,
decides and writes before any other command touches its keys. (Redis 5+ replicates a script's
effects, which is what allows ``TIME`` before writes.)

Keys of one login attempt (account and address) live in different hash slots: these scripts run
on a single Redis (or a primary with replicas), not on Redis Cluster.
"""

from __future__ import annotations

__all__ = ["LOGIN_BEGIN", "LOGIN_SUCCEEDED", "WINDOW_HIT"]

_NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""

LOGIN_BEGIN = (
    _NOW
    + """
-- KEYS[1]: the account (hash: n = attempts counted, until = end of its lock in ms)
-- KEYS[2]: the source address (sorted set: attempt id -> start ms, successes removed again)
-- ARGV: attempt id, lockout threshold, longest lock ms, quiet ms that reset, address limit, window ms
-- Returns {0, 0}: go ahead (counted as a failure until it succeeds); {1, wait ms}: the address is
-- over its limit; {2, wait ms}: the account is locked. Refused attempts are not counted.
local threshold, longest, quiet = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local limit, window = tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('%d', now - window))
if redis.call('ZCARD', KEYS[2]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {1, math.max(1, tonumber(oldest[2]) + window - now)}
end
local locked_until = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if locked_until > now then
  return {2, locked_until - now}
end
-- Counted before the password is checked, so concurrent guesses cannot all pass an unlocked
-- account: the attempt that reaches the threshold sets the lock the next ones meet.
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
local lock = 0
if n >= threshold then
  lock = math.floor(math.min(1000 * 2 ^ (n - threshold), longest))
  redis.call('HSET', KEYS[1], 'until', string.format('%d', now + lock))
end
redis.call('PEXPIRE', KEYS[1], string.format('%d', lock + quiet))
redis.call('ZADD', KEYS[2], string.format('%d', now), ARGV[1])
redis.call('PEXPIRE', KEYS[2], window)
return {0, 0}
"""
)

LOGIN_SUCCEEDED = """
-- KEYS[1]: the account, KEYS[2]: the source address; ARGV[1]: the attempt id.
-- A success clears the account's failures; the address keeps its failures, minus this attempt.
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0
"""

WINDOW_HIT = (
    _NOW
    + """
-- KEYS[1]: one subject's hits (sorted set: hit id -> ms). ARGV: hit id, limit, window ms.
-- Returns 0 and records the hit when under the limit, else the ms until the oldest hit leaves.
-- Memory per subject is bounded by the limit: a refused hit is not recorded.
local limit, window = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now - window))
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[1])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""
)
