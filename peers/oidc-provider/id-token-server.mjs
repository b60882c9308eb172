// oidc-provider (panva's, OpenID Certified) as the ID token issuer of
// gapi's ID token tests: the same scripted consent as server.mjs, plus
//
// - ID tokens carrying email, email_verified, hd and name (conformIdTokenClaims
//   off), RS256 for client `gapi-test`, ES256 for `gapi-test-es256`;
// - /jwks answered with a Cache-Control the test sets, and counted;
// - test hooks under /test/ (nothing else listens there):
//   GET /test/rotate          a new RSA signing key (new kid) signs from now on;
//                             the old one stays published (?retire=1 drops it)
//   GET /test/mint?claims=J   a JWT with the claims J signed by the current key
//                             (&key=foreign: by a key the issuer never published,
//                             under the current kid; &alg=none: unsigned)
//   GET /test/cache?value=V   the Cache-Control of /jwks
//   GET /test/stats           {"jwks_gets": n, "kids": [...]}
//
// Usage: node id-token-server.mjs   (listens on 127.0.0.1, port 0)
// Prints one line: `listening on http://127.0.0.1:PORT` once ready.
import http from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

let rsaKeys = []; // [{ kid, privateKey, jwk }] newest first
let generation = 0;
async function newRsaKey() {
  generation += 1;
  const { privateKey } = await jose.generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  const kid = `rsa-${generation}-${Date.now().toString(36)}`;
  return { kid, privateKey, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}
const ec = await (async () => {
  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  return { kid: 'ec-1', privateKey, jwk: { ...jwk, kid: 'ec-1', alg: 'ES256', use: 'sig' } };
})();
rsaKeys.push(await newRsaKey());

function config() {
  return {
    clients: [
      {
        client_id: 'gapi-test',
        client_secret: 'gapi-test-secret-0123456789',
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/callback', 'http://127.0.0.1/oauth2callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: 'gapi-test-es256',
        client_secret: 'gapi-test-es256-secret-0123456789',
        application_type: 'native',
        redirect_uris: ['http://127.0.0.1/callback', 'http://127.0.0.1/oauth2callback'],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [...rsaKeys.map((k) => k.jwk), ec.jwk] },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'tasks'],
    claims: { openid: ['sub'], email: ['email', 'email_verified', 'hd'], profile: ['name'] },
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
    issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
    ttl: { AccessToken: 3600, IdToken: 3600, RefreshToken: 86400, Grant: 86400, Interaction: 600, Session: 86400 },
    cookies: { keys: ['gapi-id-token-cookie-key'] },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, email: `${sub}@example.com`, email_verified: true, hd: 'example.com', name: 'Test User' }),
    }),
  };
}

let provider = new Provider(issuer, config());
let callback = provider.callback();

async function autoConsent(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, grantId } = details;
  const accountId = session?.accountId ?? 'test-user';
  const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId, clientId: params.client_id });
  const missing = prompt.details?.missingOIDCScope ?? [];
  if (missing.length) grant.addOIDCScope(missing.join(' '));
  const claims = prompt.details?.missingOIDCClaims ?? [];
  if (claims.length) grant.addOIDCClaims(claims);
  for (const [indicator, scopes] of Object.entries(prompt.details?.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const id = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId: id } }, { mergeWithLastSubmission: false });
}

// A key of each algorithm the issuer never publishes (made once).
const foreign = {};
let jwksGets = 0;
let cacheControl = 'public, max-age=3600';

function json(res, status, value) {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(value));
}

async function testHook(req, res, url) {
  const q = url.searchParams;
  switch (url.pathname) {
    case '/test/rotate': {
      const fresh = await newRsaKey();
      rsaKeys = q.get('retire') === '1' ? [fresh] : [fresh, ...rsaKeys];
      provider = new Provider(issuer, config());
      callback = provider.callback();
      return json(res, 200, { kid: fresh.kid });
    }
    case '/test/mint': {
      const claims = JSON.parse(q.get('claims') ?? '{}');
      const current = q.get('alg') === 'ES256' ? ec : rsaKeys[0];
      const alg = current === ec ? 'ES256' : 'RS256';
      if (q.get('alg') === 'none') {
        const header = Buffer.from(JSON.stringify({ alg: 'none', kid: current.kid })).toString('base64url');
        const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
        return json(res, 200, { token: `${header}.${body}.` });
      }
      let key = current.privateKey;
      if (q.get('key') === 'foreign') {
        foreign[alg] ??= (await jose.generateKeyPair(alg)).privateKey;
        key = foreign[alg];
      }
      const kid = q.get('kid') ?? current.kid;
      const token = await new jose.SignJWT(claims).setProtectedHeader({ alg, kid, typ: 'JWT' }).sign(key);
      return json(res, 200, { token });
    }
    case '/test/cache':
      cacheControl = q.get('value') ?? cacheControl;
      return json(res, 200, { cacheControl });
    case '/test/stats':
      return json(res, 200, { jwks_gets: jwksGets, kids: [...rsaKeys.map((k) => k.kid), ec.kid] });
    default:
      return json(res, 404, { error: 'unknown test hook' });
  }
}

server.on('request', (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/test/')) {
    testHook(req, res, url).catch((err) => json(res, 500, { error: String(err) }));
    return;
  }
  if (url.pathname.startsWith('/interaction/')) {
    autoConsent(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  if (url.pathname === '/jwks') {
    jwksGets += 1;
    res.setHeader('cache-control', cacheControl);
  }
  callback(req, res);
});

console.log(`listening on ${issuer}`);
process.on('SIGTERM', () => process.exit(0));
