"""The embedded development stack: real PostgreSQL and Redis servers from wheels, for `make run` and tests.

Nothing here is used in production; it exists so that a newcomer with only Python can run the
whole system and its test suite.
"""
