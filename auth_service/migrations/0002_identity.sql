-- Users, roles, OAuth clients, refresh-token families, signing keys and the audit trail.

CREATE TABLE users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email               citext NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 320),
    password_hash       text NOT NULL,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    last_login_at       timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE roles (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    description text NOT NULL DEFAULT '',
    scopes      text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_roles (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role_idx ON user_roles (role_id);

-- secret_digest is SHA-256 of a 256-bit random secret (NULL for public clients).
CREATE TABLE oauth_clients (
    client_id     text PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9._~-]{1,100}$'),
    client_name   text NOT NULL CHECK (length(client_name) BETWEEN 1 AND 200),
    secret_digest bytea,
    grant_types   text[] NOT NULL,
    scopes        text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (grant_types <@ ARRAY['password', 'refresh_token', 'client_credentials']),
    CHECK (secret_digest IS NOT NULL OR NOT ('client_credentials' = ANY (grant_types)))
);

-- One login: every refresh token rotated from it shares the family; reuse revokes the family.
CREATE TABLE refresh_families (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id      text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE,
    scope          text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_used_at   timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text,
    source_ip      inet
);
CREATE INDEX refresh_families_user_idx ON refresh_families (user_id, created_at DESC);

-- digest = SHA-256 of the opaque token. access_jti/access_expires_at: the access token issued with
-- it, put on the deny-list when the family is revoked.
CREATE TABLE refresh_tokens (
    digest            bytea PRIMARY KEY,
    family_id         uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    used_at           timestamptz,
    access_jti        text NOT NULL,
    access_expires_at timestamptz NOT NULL
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- Signing keys: next (published, not signing) -> active (signing) -> retired (published) -> deleted.
-- private_key is nonce || AES-256-GCM(PKCS#8 DER), the kid and alg bound as associated data.
CREATE TABLE signing_keys (
    kid          text PRIMARY KEY,
    alg          text NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    state        text NOT NULL CHECK (state IN ('next', 'active', 'retired')),
    public_jwk   jsonb NOT NULL,
    private_key  bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    activate_at  timestamptz NOT NULL,
    activated_at timestamptz,
    retired_at   timestamptz,
    remove_at    timestamptz
);
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys ((true)) WHERE state = 'active';
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys ((true)) WHERE state = 'next';

CREATE TABLE audit_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('success', 'failure')),
    actor       text,
    target_type text,
    target_id   text,
    source_ip   inet,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_action_idx ON audit_events (action, id DESC);
CREATE INDEX audit_events_target_idx ON audit_events (target_id, id DESC);

INSERT INTO roles (name, description, scopes) VALUES
    ('admin', 'Manages customers and users', ARRAY['customers:read', 'customers:write', 'customers:delete', 'users:manage']),
    ('agent', 'Reads and edits customers', ARRAY['customers:read', 'customers:write']),
    ('viewer', 'Reads customers', ARRAY['customers:read']);

-- The public first-party client (no secret) behind the password grant.
INSERT INTO oauth_clients (client_id, client_name, secret_digest, grant_types, scopes) VALUES
    ('first-party', 'First-party applications', NULL, ARRAY['password', 'refresh_token'],
     ARRAY['customers:read', 'customers:write', 'customers:delete', 'users:manage']);
