-- Passkeys (W3C WebAuthn Level 2): a person's credentials, the random user handle authenticators
-- store with them, and the challenges of ceremonies in progress.

-- The user handle (WebAuthn `user.id`): random bytes, never the user id or anything derived from
-- it, so an authenticator (or whoever reads one) learns nothing about the account (section 14.6.1).
-- Made at the first registration and kept: every credential of the person carries the same one.
CREATE TABLE webauthn_user_handles (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    handle     bytea NOT NULL UNIQUE CHECK (length(handle) BETWEEN 16 AND 64),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per registered credential. `public_key` is the COSE_Key from the attestation;
-- `sign_count` the authenticator's last signature counter (0 for authenticators that do not
-- count); `backup_eligible` is fixed at registration (a synced passkey), `backed_up` follows each
-- assertion. The name is the person's own ("Work laptop"), unique per person.
CREATE TABLE passkeys (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id   bytea NOT NULL UNIQUE CHECK (length(credential_id) BETWEEN 1 AND 1023),
    public_key      bytea NOT NULL CHECK (length(public_key) BETWEEN 1 AND 2048),
    sign_count      bigint NOT NULL CHECK (sign_count BETWEEN 0 AND 4294967295),
    transports      text[] NOT NULL DEFAULT '{}',
    aaguid          uuid NOT NULL,
    backup_eligible boolean NOT NULL,
    backed_up       boolean NOT NULL CHECK (backup_eligible OR NOT backed_up),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    UNIQUE (user_id, name)
);
CREATE INDEX passkeys_user_idx ON passkeys (user_id, created_at);

-- A ceremony between its options and its answer: the SHA-256 of the secret in the browser's
-- ceremony cookie is the key, so the challenge is bound to that browser; a registration is also
-- bound to the browser session that asked, a second-factor assertion to the person whose password
-- was just checked. Taken (deleted) by the first answer, right or wrong: single use.
CREATE TABLE webauthn_challenges (
    digest             bytea PRIMARY KEY,
    purpose            text NOT NULL CHECK (purpose IN ('register', 'login', 'second_factor')),
    challenge          bytea NOT NULL CHECK (length(challenge) BETWEEN 16 AND 64),
    user_id            uuid REFERENCES users (id) ON DELETE CASCADE,
    browser_session_id uuid REFERENCES browser_sessions (id) ON DELETE CASCADE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    CHECK (purpose = 'login' OR user_id IS NOT NULL),
    CHECK (purpose <> 'register' OR browser_session_id IS NOT NULL)
);
CREATE INDEX webauthn_challenges_expiry_idx ON webauthn_challenges (expires_at);
