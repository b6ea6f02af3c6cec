"""Verify OAuth 2.0 JWT access tokens (RFC 9068) locally from an issuer's JWKS.

Any service of the ecosystem can use this package: build a ``JwksCache`` for the issuer, a
``TokenVerifier`` over it, and mount ``BearerAuthMiddleware`` plus ``requires_scopes`` guards in a
Litestar app. The verifier never calls the issuer per request.
"""
