"""Second factors: TOTP authenticators and recovery codes, their policy per role, their admin."""
