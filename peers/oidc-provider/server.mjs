// A real OAuth 2.0 / OpenID Connect server for gapi's interop tests:
// panva's oidc-provider (OpenID Certified), configured with one confidential
// client, PKCE, refresh tokens, revocation and the device flow. The consent
// step is scripted: any interaction logs in `test-user` and grants what the
// client asked for. Device codes are confirmed by POSTing the form of
// /device with the user code (the test parses the xsrf field).
//
// Usage: node server.mjs            (listens on 127.0.0.1, port 0)
// Prints one line: `listening on http://127.0.0.1:PORT` once ready.
import http from 'node:http';
import Provider from 'oidc-provider';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'gapi-test',
      client_secret: 'gapi-test-secret-0123456789',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1/callback', 'http://127.0.0.1/'],
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  scopes: ['openid', 'offline_access', 'tasks'],
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: false },
    deviceFlow: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
  },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: { AccessToken: 3600, RefreshToken: 86400, DeviceCode: 600, Grant: 86400, Interaction: 600, Session: 86400 },
  cookies: { keys: ['gapi-interop-cookie-key'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
});

// Scripted consent: log in `test-user` and grant everything requested.
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

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.url.startsWith('/interaction/')) {
    autoConsent(req, res).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
    return;
  }
  callback(req, res);
});

console.log(`listening on ${issuer}`);
process.on('SIGTERM', () => process.exit(0));
