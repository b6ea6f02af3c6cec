"""HTTP pieces both services mount: errors as problem+json, request ids and access logs, health."""
