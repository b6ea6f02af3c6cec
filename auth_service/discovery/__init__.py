"""Discovery documents (RFC 8414, OpenID Connect Discovery), the JWKS and userinfo."""
