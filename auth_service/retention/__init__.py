"""Retention: the purge of rows nothing needs any more (ended sessions, spent revocations, old audit
events), run in the service under an advisory lock or by ``auth-service purge``."""
