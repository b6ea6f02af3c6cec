"""Verify OAuth 2.0 JWT access tokens (RFC 9068) locally from an issuer's JWKS.

Any service of the ecosystem can use this package: build a ``JwksCache`` for the issuer, a
``TokenVerifier`` over it, and mount ``BearerAuthMiddleware`` in a Litestar app, routes naming
their scopes with ``opt=requires_scopes(...)`` and, where a stronger or more recent login is
needed, ``opt=requires_mfa()`` or ``requires_authentication(acr_values=..., max_age=...)``
(``step_up.py``: RFC 9470 step-up), and a ``RevocationFeed`` for the issuer's revocations (followed
from a Redis stream, held in memory). The verifier never calls the issuer per request.
"""
