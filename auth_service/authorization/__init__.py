"""The authorization endpoint (RFC 6749 section 4.1, OpenID Connect Core 3.1), its login and consent."""
