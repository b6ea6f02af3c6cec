-- Resource servers (RFC 8707): every access token is for the resources it names in `aud`, and every
-- scope belongs to exactly one resource server. Admin powers are split per area; clients keep the
-- authentication method they registered, the resources they may ask for, and (for a resource
-- server's own credentials) the resource whose tokens they may introspect.

CREATE TABLE resource_servers (
    identifier       text PRIMARY KEY CHECK (identifier ~ '^[\x21-\x7e]{1,200}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    access_token_ttl integer CHECK (access_token_ttl BETWEEN 30 AND 86400),
    -- The auth service's own API: its scopes are the ones its code enforces, not editable.
    managed          boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The primary key makes a scope belong to one resource server only, so the audience of a token
-- follows from the scopes asked for.
CREATE TABLE resource_scopes (
    scope    text PRIMARY KEY CHECK (scope ~ '^[\x21\x23-\x5b\x5d-\x7e]{1,100}$'),
    resource text NOT NULL REFERENCES resource_servers (identifier) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX resource_scopes_resource_idx ON resource_scopes (resource);

INSERT INTO resource_servers (identifier, name, managed) VALUES
    ('auth', 'Identity provider API (admin and self-service)', true),
    ('customers', 'Customer API', false);
INSERT INTO resource_scopes (scope, resource) VALUES
    ('admin:users', 'auth'),
    ('admin:roles', 'auth'),
    ('admin:clients', 'auth'),
    ('admin:resources', 'auth'),
    ('admin:keys', 'auth'),
    ('admin:audit', 'auth'),
    ('customers:read', 'customers'),
    ('customers:write', 'customers'),
    ('customers:delete', 'customers');

-- users:manage gated every admin area; whoever held it now holds every area's scope.
UPDATE roles SET scopes = ARRAY(
    SELECT DISTINCT s FROM unnest(array_remove(scopes, 'users:manage') || ARRAY[
        'admin:users', 'admin:roles', 'admin:clients', 'admin:resources', 'admin:keys', 'admin:audit'
    ]) AS s ORDER BY s), updated_at = now()
WHERE 'users:manage' = ANY (scopes);
UPDATE oauth_clients SET scopes = ARRAY(
    SELECT DISTINCT s FROM unnest(array_remove(scopes, 'users:manage') || ARRAY[
        'admin:users', 'admin:roles', 'admin:clients', 'admin:resources', 'admin:keys', 'admin:audit'
    ]) AS s ORDER BY s), updated_at = now()
WHERE 'users:manage' = ANY (scopes);

-- RFC 7591: the method a client registered is the only one it may use.
ALTER TABLE oauth_clients
    ADD COLUMN token_endpoint_auth_method text NOT NULL DEFAULT 'client_secret_basic'
        CHECK (token_endpoint_auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
    ADD COLUMN default_resource text REFERENCES resource_servers (identifier) ON DELETE SET NULL ON UPDATE CASCADE,
    -- Set for a resource server's own credentials: it may introspect tokens meant for that resource.
    ADD COLUMN resource_server text REFERENCES resource_servers (identifier) ON DELETE SET NULL ON UPDATE CASCADE;
UPDATE oauth_clients SET token_endpoint_auth_method = 'none' WHERE secret_digest IS NULL;
ALTER TABLE oauth_clients
    ADD CONSTRAINT oauth_clients_method_matches_secret
        CHECK ((token_endpoint_auth_method = 'none') = (secret_digest IS NULL)),
    -- A user's `sub` is a UUID; a client's `sub` is its client_id, which therefore never is one.
    ADD CONSTRAINT oauth_clients_id_not_a_user_subject
        CHECK (client_id !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$');

-- The resources a client may ask tokens for.
CREATE TABLE client_resources (
    client_id text NOT NULL REFERENCES oauth_clients (client_id) ON DELETE CASCADE ON UPDATE CASCADE,
    resource  text NOT NULL REFERENCES resource_servers (identifier) ON DELETE CASCADE ON UPDATE CASCADE,
    PRIMARY KEY (client_id, resource)
);
CREATE INDEX client_resources_resource_idx ON client_resources (resource);

-- Existing clients keep what they could do: the resources owning their scopes; the first-party
-- app also reaches the auth service's self-service API and defaults to the customer API.
INSERT INTO client_resources (client_id, resource)
SELECT DISTINCT c.client_id, rs.resource FROM oauth_clients c
CROSS JOIN unnest(c.scopes) AS s JOIN resource_scopes rs ON rs.scope = s;
INSERT INTO client_resources (client_id, resource)
SELECT client_id, 'auth' FROM oauth_clients WHERE 'password' = ANY (grant_types)
ON CONFLICT DO NOTHING;
UPDATE oauth_clients SET default_resource = 'customers' WHERE client_id = 'first-party';

-- The audience of a login's first access token: a refresh without `resource` gets the same.
ALTER TABLE refresh_families ADD COLUMN resources text[] NOT NULL DEFAULT '{}';
UPDATE refresh_families SET resources = ARRAY['customers'];
