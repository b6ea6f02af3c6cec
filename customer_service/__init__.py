"""The customer API: a resource server that verifies access tokens on its own from the JWKS."""
