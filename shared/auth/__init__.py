"""Verify OAuth 2.0 JWT access tokens (RFC 9068) locally from an issuer's JWKS.

Any service of the ecosystem can use this package: build a ``JwksCache`` for the issuer, a
``TokenVerifier`` over it, and mount ``BearerAuthMiddleware`` in a Litestar app, routes naming
their scopes with ``opt=requires_scopes(...)``. The verifier never calls the issuer per request.
"""
