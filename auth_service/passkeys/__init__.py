"""Passkeys (W3C WebAuthn Level 2): registration, the passwordless login and the second factor."""
