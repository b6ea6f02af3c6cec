"""Human-chosen passwords: argon2id hashing off the event loop, and the NIST SP 800-63B policy."""
