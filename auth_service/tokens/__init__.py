"""The OAuth 2.0 token endpoint, refresh-token families, revocation and introspection."""
