-- Revocations that every verifier must learn within seconds, emergency key revocation, the
-- refresh-token reuse grace, and what the retention purge needs to find expired rows quickly.

-- The outbox of revocations (shared/auth/revocation_events.py): written in the transaction that
-- revokes, published to the Redis stream after commit by whichever replica's publisher claims it
-- first (FOR UPDATE SKIP LOCKED), republished if Redis lost the stream. `expires_at` is the latest
-- expiry of any token the row concerns; the row is purged a while after it.
CREATE TABLE revocations (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('jti', 'sid', 'sub', 'client', 'role', 'kid')),
    value        text NOT NULL CHECK (length(value) BETWEEN 1 AND 400),
    revoked_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at   timestamptz NOT NULL,
    published_at timestamptz
);
CREATE INDEX revocations_unpublished_idx ON revocations (id) WHERE published_at IS NULL;
CREATE INDEX revocations_lookup_idx ON revocations (kind, value);
CREATE INDEX revocations_expiry_idx ON revocations (expires_at);

-- A committed revocation wakes every replica's publisher at once (NOTIFY is delivered at commit).
CREATE FUNCTION revocations_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('auth_revocations', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER revocations_notify AFTER INSERT ON revocations
    FOR EACH STATEMENT EXECUTE FUNCTION revocations_notify();

-- Emergency key revocation: a revoked key neither signs nor is published, at once.
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_state_check;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_state_check
    CHECK (state IN ('next', 'active', 'retired', 'revoked'));
ALTER TABLE signing_keys ADD COLUMN revoked_at timestamptz;

-- Refresh reuse grace: a token used again within the grace window answers the same successor,
-- kept sealed (AES-256-GCM under the key-encryption key) next to the used token.
ALTER TABLE refresh_tokens ADD COLUMN successor_digest bytea;
ALTER TABLE refresh_tokens ADD COLUMN successor_sealed bytea;

-- Retention purge.
CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (expires_at);
CREATE INDEX refresh_families_expiry_idx ON refresh_families (expires_at);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at);

-- (H5) The purge also finds revoked sessions and sealed successors past the reuse grace by index.
CREATE INDEX refresh_families_revoked_idx ON refresh_families (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX refresh_tokens_sealed_idx ON refresh_tokens (used_at) WHERE successor_sealed IS NOT NULL;
