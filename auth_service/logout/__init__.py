"""Ending a person's SSO session: RP-initiated logout (the browser) and back-channel notices (the apps)."""
