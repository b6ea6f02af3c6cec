"""Browser (single sign-on) sessions: the cookie, its server-side state, and ending it."""
