"""The HTTP stack every service runs on (``stack.create_service_app``) and its pieces: errors as
problem+json, the one request observer (ids, access log, metrics, spans), limits, health."""
