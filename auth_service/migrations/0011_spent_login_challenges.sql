-- The passwordless login's challenges are made with the login page and not stored
-- (auth_service/passkeys/login_challenges.py); an answer spends its challenge by inserting the
-- challenge's SHA-256 here, so the primary key lets each challenge answer once, on any replica.
-- A row is useless once the challenge it names has expired (the purge removes it a day later).
CREATE TABLE webauthn_spent_challenges (
    digest     bytea PRIMARY KEY CHECK (length(digest) = 32),
    expires_at timestamptz NOT NULL
);
CREATE INDEX webauthn_spent_challenges_expiry_idx ON webauthn_spent_challenges (expires_at);
