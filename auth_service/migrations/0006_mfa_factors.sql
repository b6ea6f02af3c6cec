-- Second factors: TOTP authenticators, recovery codes, the roles that require a second factor,
-- and logins whose password was right while their second step is still due.

-- A person's TOTP authenticator (RFC 6238), at most one. The secret is sealed with the
-- key-encryption key (nonce || AES-256-GCM), the user id bound as associated data, so a blob
-- copied onto another person's row does not open. It counts once a first code confirmed that the
-- app holds it. `last_used_step` is the time step of the last code accepted: a code of that step
-- or an earlier one is refused (RFC 6238 section 5.2, no replay within its window).
CREATE TABLE totp_credentials (
    user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret  bytea NOT NULL,
    confirmed      boolean NOT NULL DEFAULT false,
    last_used_step bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    confirmed_at   timestamptz,
    last_used_at   timestamptz,
    CHECK (confirmed = (confirmed_at IS NOT NULL))
);

-- One set of recovery codes per person. Each code is stored as HMAC-SHA256 under the set's own
-- random key, which is sealed like a TOTP secret (so `keys reseal` moves it with the KEK and a
-- database dump alone opens nothing); regenerating replaces the set and every code in it.
CREATE TABLE recovery_code_sets (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE recovery_codes (
    user_id uuid NOT NULL REFERENCES recovery_code_sets (user_id) ON DELETE CASCADE,
    digest  bytea NOT NULL CHECK (length(digest) = 32),
    used_at timestamptz,
    PRIMARY KEY (user_id, digest)
);

-- A role may require a second factor of whoever holds it: such a person without one is made to
-- enrol at the next browser login. The administrators' role does (PCI DSS 4.0 section 8.4.1).
ALTER TABLE roles ADD COLUMN requires_mfa boolean NOT NULL DEFAULT false;
UPDATE roles SET requires_mfa = true WHERE name = 'admin';

-- A login between its password and its second factor (or the enrolment of one). The browser holds
-- a random secret in a short-lived cookie; only its SHA-256 is stored. `amr` is what was proven so
-- far; `session_id` is set once the second step started the browser session but the page still
-- shows something first (the recovery codes of a new enrolment).
CREATE TABLE pending_logins (
    digest     bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    amr        text[] NOT NULL,
    request_id uuid REFERENCES authorization_requests (id) ON DELETE CASCADE,
    return_to  text CHECK (length(return_to) <= 500),
    replacing  uuid REFERENCES browser_sessions (id) ON DELETE SET NULL,
    session_id uuid REFERENCES browser_sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX pending_logins_user_idx ON pending_logins (user_id);
CREATE INDEX pending_logins_expiry_idx ON pending_logins (expires_at);
