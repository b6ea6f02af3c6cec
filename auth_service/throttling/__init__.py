"""Abuse protection shared by every replica: login lockout, per-address and per-subject limits in Redis.

Every decision is one Lua script run atomically in Redis (no read-modify-write from Python), on
Redis's own clock, so replicas agree on windows and locks whatever their clocks say. When Redis
cannot answer, ``AUTH_THROTTLE_FAIL_MODE`` decides: refuse (the default) or let requests through.
"""
