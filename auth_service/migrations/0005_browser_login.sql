-- The browser front door (OpenID Connect): clients registered for the authorization code and
-- device flows, browser (SSO) sessions, pending authorization requests, single-use codes,
-- remembered consents, device authorizations, and the standard profile claims of a user.

-- Clients (RFC 7591 members). The rules across members (a public client has no
-- client_credentials, authorization_code needs a redirect URI, ...) are the registration's.
ALTER TABLE oauth_clients DROP CONSTRAINT oauth_clients_grant_types_check;
ALTER TABLE oauth_clients
    ADD CONSTRAINT oauth_clients_grant_types_check CHECK (grant_types <@ ARRAY[
        'password', 'refresh_token', 'client_credentials', 'authorization_code',
        'urn:ietf:params:oauth:grant-type:device_code']),
    ADD COLUMN redirect_uris text[] NOT NULL DEFAULT '{}',
    ADD COLUMN post_logout_redirect_uris text[] NOT NULL DEFAULT '{}',
    ADD COLUMN response_types text[] NOT NULL DEFAULT '{}' CHECK (response_types <@ ARRAY['code']),
    ADD COLUMN backchannel_logout_uri text CHECK (length(backchannel_logout_uri) BETWEEN 1 AND 2000),
    -- First-party apps (ours) skip the consent page.
    ADD COLUMN first_party boolean NOT NULL DEFAULT false;
UPDATE oauth_clients SET first_party = true WHERE client_id = 'first-party';

-- The command-line client behind `auth-service login` (device flow, or a loopback redirect on
-- any port, RFC 8252 section 7.3): a public first-party app, so no password reaches any client.
INSERT INTO oauth_clients (client_id, client_name, secret_digest, grant_types, scopes,
                           token_endpoint_auth_method, default_resource, redirect_uris,
                           response_types, first_party)
SELECT 'auth-cli', 'Command line (auth-service login)', NULL,
       ARRAY['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
       scopes, 'none', 'customers', ARRAY['http://127.0.0.1/callback'], ARRAY['code'], true
FROM oauth_clients WHERE client_id = 'first-party';
INSERT INTO client_resources (client_id, resource)
SELECT 'auth-cli', resource FROM client_resources WHERE client_id = 'first-party';

-- Users: the OpenID Connect standard claims of the profile and email scopes.
ALTER TABLE users
    ADD COLUMN email_verified boolean NOT NULL DEFAULT false,
    ADD COLUMN name text CHECK (length(name) BETWEEN 1 AND 200),
    ADD COLUMN given_name text CHECK (length(given_name) BETWEEN 1 AND 100),
    ADD COLUMN family_name text CHECK (length(family_name) BETWEEN 1 AND 100),
    ADD COLUMN locale text CHECK (locale ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$');

-- A browser's single sign-on session. The cookie holds a random secret; only its SHA-256 is
-- stored. `id` is the `sid` of ID tokens and logout tokens (OpenID Connect Back-Channel Logout).
CREATE TABLE browser_sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    digest       bytea NOT NULL UNIQUE,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time    timestamptz NOT NULL,
    amr          text[] NOT NULL,
    acr          text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    ended_reason text,
    source_ip    inet,
    user_agent   text CHECK (length(user_agent) <= 500)
);
CREATE INDEX browser_sessions_user_idx ON browser_sessions (user_id, created_at DESC);
CREATE INDEX browser_sessions_expiry_idx ON browser_sessions (expires_at);

-- The refresh-token families a browser session created: ending the session revokes them.
ALTER TABLE refresh_families ADD COLUMN browser_session_id uuid
    REFERENCES browser_sessions (id) ON DELETE SET NULL;
CREATE INDEX refresh_families_browser_session_idx ON refresh_families (browser_session_id)
    WHERE browser_session_id IS NOT NULL;

-- An authorization request (or a pushed one, RFC 9126) between /oauth/authorize and the code:
-- validated once, then carried through the login and consent pages by its id only.
CREATE TABLE authorization_requests (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id   text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE ON UPDATE CASCADE,
    parameters  jsonb NOT NULL,
    -- Set once a login for this request succeeded (prompt=login and max_age are then satisfied).
    logged_in_session uuid REFERENCES browser_sessions (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX authorization_requests_expiry_idx ON authorization_requests (expires_at);

-- Authorization codes: SHA-256 of the code; single use, bound to client, redirect URI, PKCE
-- challenge, nonce and session. `family_id` is what the first use issued: a second use revokes it.
CREATE TABLE authorization_codes (
    digest             bytea PRIMARY KEY,
    client_id          text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE ON UPDATE CASCADE,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    browser_session_id uuid REFERENCES browser_sessions (id) ON DELETE CASCADE,
    redirect_uri       text NOT NULL,
    scope              text NOT NULL,
    resources          text[] NOT NULL DEFAULT '{}',
    code_challenge     text NOT NULL CHECK (code_challenge ~ '^[A-Za-z0-9_-]{43}$'),
    nonce              text CHECK (length(nonce) <= 512),
    auth_time          timestamptz NOT NULL,
    amr                text[] NOT NULL,
    acr                text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL,
    used_at            timestamptz,
    family_id          uuid REFERENCES refresh_families (id) ON DELETE SET NULL
);
CREATE INDEX authorization_codes_expiry_idx ON authorization_codes (expires_at);

-- What a user allowed a (third-party) client; asked again only for scopes beyond it.
CREATE TABLE consents (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE ON UPDATE CASCADE,
    scopes     text[] NOT NULL,
    granted_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX consents_client_idx ON consents (client_id);

-- The device authorization grant (RFC 8628): SHA-256 of the device_code, the user_code as the
-- user types it (normalised), approved (or denied) through the browser behind the same login.
CREATE TABLE device_authorizations (
    device_digest      bytea PRIMARY KEY,
    user_code          text NOT NULL UNIQUE CHECK (user_code ~ '^[A-Z]{8}$'),
    client_id          text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE ON UPDATE CASCADE,
    scope              text NOT NULL,
    resources          text[] NOT NULL DEFAULT '{}',
    status             text NOT NULL DEFAULT 'pending'
                       CHECK (status IN ('pending', 'approved', 'denied', 'used')),
    user_id            uuid REFERENCES users (id) ON DELETE CASCADE,
    browser_session_id uuid REFERENCES browser_sessions (id) ON DELETE SET NULL,
    granted_scope      text,
    auth_time          timestamptz,
    amr                text[],
    acr                text,
    interval_seconds   integer NOT NULL CHECK (interval_seconds BETWEEN 1 AND 60),
    last_polled_at     timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    expires_at         timestamptz NOT NULL
);
CREATE INDEX device_authorizations_expiry_idx ON device_authorizations (expires_at);
