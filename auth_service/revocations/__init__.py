"""Revocations recorded in PostgreSQL and pushed to every verifier through a Redis stream."""
