"""The identity provider: users, roles, OAuth clients, signed JWT access tokens and the JWKS."""
