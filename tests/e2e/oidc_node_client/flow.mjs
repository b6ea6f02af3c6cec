// panva's openid-client (6.x) as an app would use it against our provider, driven by
// tests/e2e/test_oidc_node_client.py over stdin/stdout (one JSON object a line).
//   node flow.mjs code   ISSUER CLIENT_ID REDIRECT_URI POST_LOGOUT_URI SCOPE
//     prints {step: "authorize", url}; reads the callback URL the person came back to;
//     prints {step: "done", claims, userinfo, scope, end_session_url, logout_state}
//   node flow.mjs device ISSUER CLIENT_ID SCOPE
//     prints {step: "device", user_code, verification_uri, verification_uri_complete, interval};
//     polls until the person approves; prints {step: "done", claims, scope}
// Errors: {step: "error", name, code, error, message, cause}, exit 3. Only ever talks to 127.0.0.1.
import * as client from 'openid-client';
import { createInterface } from 'node:readline';

const [mode, issuer, clientId, ...rest] = process.argv.slice(2);
const say = (object) => process.stdout.write(`${JSON.stringify(object)}\n`);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const nextLine = async () => (await lines.next()).value;

async function configure() {
  // http: this test's issuer is http://127.0.0.1:<port>; nothing else changes.
  const config = await client.discovery(new URL(issuer), clientId, undefined, client.None(), {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(config); // verify the ID token's JWS against the JWKS
  return config;
}

async function codeFlow(config, [redirectUri, postLogoutUri, scope]) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  say({ step: 'authorize', url: url.href });
  const callback = new URL(await nextLine());
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  const logoutState = client.randomState();
  const endSession = client.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: postLogoutUri,
    state: logoutState,
  });
  say({ step: 'done', claims, userinfo, scope: tokens.scope, end_session_url: endSession.href, logout_state: logoutState });
}

async function deviceFlow(config, [scope]) {
  const started = await client.initiateDeviceAuthorization(config, { scope });
  say({ step: 'device', ...started });
  const tokens = await client.pollDeviceAuthorizationGrant(config, started);
  say({ step: 'done', claims: tokens.claims(), scope: tokens.scope });
}

try {
  const config = await configure();
  await (mode === 'device' ? deviceFlow(config, rest) : codeFlow(config, rest));
  process.exit(0);
} catch (error) {
  say({ step: 'error', name: error.name, code: error.code, error: error.error, message: error.message, cause: error.cause?.message });
  process.exit(3);
}
