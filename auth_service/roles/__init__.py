"""Roles: named sets of OAuth scopes assigned to users."""
