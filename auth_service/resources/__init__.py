"""Resource servers (RFC 8707): the audiences tokens are issued for and the scopes each owns."""
