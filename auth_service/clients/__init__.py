"""OAuth clients: registration (RFC 7591 names), secrets, client authentication."""
