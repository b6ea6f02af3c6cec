"""Signing keys: generation, encryption at rest, rotation across replicas, the published JWKS."""
