// node-oidc-provider as it would run in production: the SSO peer of ../shared/bench-peers/oidc_peer.mjs
// (the same code-flow client, development login pages, JWT access tokens through resource
// indicators, signing keys and claims), but with its models (sessions, grants, codes, interactions)
// in PostgreSQL through an adapter instead of the in-memory one its README calls development-only.
// One parameterised statement per adapter call, as a plain production adapter does; our service
// keeps the same things in the same database. bench.auth_sso runs it beside the in-memory peer.
// Env: PORT, PEERS_DATA, OIDC_ALG (RS256 | EdDSA), RP_CLIENT_ID, RP_REDIRECT_URI, DATABASE_URL.
// Run from a folder whose node_modules has oidc-provider and pg.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import pg from 'pg';

const env = process.env;
const ALG = env.OIDC_ALG ?? 'RS256';
const SCOPE = 'customers:read';
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 10 });

await pool.query(`CREATE TABLE IF NOT EXISTS oidc_models (
  model text NOT NULL, id text NOT NULL, payload jsonb NOT NULL,
  grant_id text, uid text, expires_at timestamptz, PRIMARY KEY (model, id))`);
await pool.query('CREATE INDEX IF NOT EXISTS oidc_models_uid ON oidc_models (model, uid)');
await pool.query('CREATE INDEX IF NOT EXISTS oidc_models_grant ON oidc_models (grant_id)');

const LIVE = '(expires_at IS NULL OR expires_at > now())';
const statements = {
  upsert: `INSERT INTO oidc_models (model, id, payload, grant_id, uid, expires_at)
           VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::int IS NULL THEN NULL ELSE now() + make_interval(secs => $6::int) END)
           ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
             uid = excluded.uid, expires_at = excluded.expires_at`,
  find: `SELECT payload FROM oidc_models WHERE model = $1 AND id = $2 AND ${LIVE}`,
  findByUid: `SELECT payload FROM oidc_models WHERE model = $1 AND uid = $2 AND ${LIVE}`,
  findByUserCode: `SELECT payload FROM oidc_models WHERE model = $1 AND payload->>'userCode' = $2 AND ${LIVE}`,
  consume: `UPDATE oidc_models SET payload = jsonb_set(payload, '{consumed}', to_jsonb(extract(epoch FROM now())::int))
            WHERE model = $1 AND id = $2`,
  destroy: 'DELETE FROM oidc_models WHERE model = $1 AND id = $2',
  revokeByGrantId: 'DELETE FROM oidc_models WHERE grant_id = $1',
};
const run = (name, values) => pool.query({ name, text: statements[name], values });
const payloadOf = (result) => result.rows[0]?.payload;

class PostgresAdapter {
  constructor(model) { this.model = model; }
  async upsert(id, payload, expiresIn) {
    await run('upsert', [this.model, id, payload, payload.grantId ?? null, payload.uid ?? null, expiresIn ?? null]);
  }
  async find(id) { return payloadOf(await run('find', [this.model, id])); }
  async findByUid(uid) { return payloadOf(await run('findByUid', [this.model, uid])); }
  async findByUserCode(userCode) { return payloadOf(await run('findByUserCode', [this.model, userCode])); }
  async consume(id) { await run('consume', [this.model, id]); }
  async destroy(id) { await run('destroy', [this.model, id]); }
  async revokeByGrantId(grantId) { await run('revokeByGrantId', [grantId]); }
}

const provider = new Provider('http://auth.local', {
  adapter: PostgresAdapter,
  scopes: ['openid', 'profile', 'email', SCOPE],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  findAccount: (ctx, sub) => ({ accountId: sub, claims: () => ({ sub, name: sub, email: `${sub}@example.com`, email_verified: true }) }),
  jwks: JSON.parse(readFileSync(`${env.PEERS_DATA}/jwks-private.json`, 'utf8')),
  clients: [{
    client_id: env.RP_CLIENT_ID ?? 'bench-rp',
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [env.RP_REDIRECT_URI ?? 'http://127.0.0.1:59999/callback'],
    token_endpoint_auth_method: 'none',
    id_token_signed_response_alg: ALG,
    scope: `openid profile email ${SCOPE}`,
  }],
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'urn:bench:customers',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: SCOPE, audience: 'customers', accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: ALG } },
      }),
    },
  },
  extraTokenClaims: () => ({ roles: ['user'] }),
});

const server = createServer(provider.callback()).listen(Number(env.PORT ?? 18102), '127.0.0.1');
const close = () => server.close(() => pool.end().then(() => process.exit(0)));
process.on('SIGTERM', close);
process.on('SIGINT', close);
