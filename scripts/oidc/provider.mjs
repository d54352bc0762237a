// A real OpenID provider for shipwarden serve's tests (#21): panva's
// oidc-provider (OpenID-certified) on a loopback port, with the test users and
// their groups, issuing JWT access tokens for the resource `urn:shipwarden`
// (audience `shipwarden`) through its resource-indicators feature.
//
//   node provider.mjs PORT_FILE
//
// Listens on 127.0.0.1 on two free ports and, once ready, writes both issuers
// to PORT_FILE, one a line. They share their signing keys:
//   line 1   the trusted issuer (`http://127.0.0.1:PORT`), which also serves the helpers;
//   line 2   another issuer: its tokens verify by signature but name the wrong `iss`.
// Clients: `shipwarden-tests` (the helpers below) and `shipwarden-console`
// (the web console's sign-in, #22; public, PKCE, loopback redirects on any port).
// Test-only helpers (loopback only), which drive the provider's real flows:
//   GET  /__test/token?user=U&resource=R[&issuer=other]
//        the authorization-code flow with PKCE through the provider's own login
//        and consent pages (devInteractions), then the token endpoint; answers
//        the token response (JSON with `access_token`, a JWT).
//   POST /__test/rotate
//        a new signing key: the provider is rebuilt with [new, ...old] keys, so
//        new tokens carry a new `kid` while old ones still verify.
//
// Resources (audience, lifetime):
//   urn:shipwarden          shipwarden, 600 s, RS256
//   urn:shipwarden:es256    shipwarden, 600 s, ES256
//   urn:shipwarden:short    shipwarden, 2 s   (expiry tests)
//   urn:elsewhere           elsewhere,  600 s (wrong audience)

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const portFile = process.argv[2];
if (!portFile) {
  console.error('usage: node provider.mjs PORT_FILE');
  process.exit(2);
}

// Users and their groups. `gina` has no [users] entry: her group grants a role.
// `olga` belongs to no project.
const USERS = {
  rita: ['release-managers'],
  paul: ['product'],
  quinn: ['qa'],
  dana: ['ops'],
  casey: ['leadership'],
  gina: ['release-managers'],
  olga: ['outsiders'],
};

const RESOURCES = {
  'urn:shipwarden': { audience: 'shipwarden', ttl: 600, alg: 'RS256' },
  'urn:shipwarden:es256': { audience: 'shipwarden', ttl: 600, alg: 'ES256' },
  'urn:shipwarden:short': { audience: 'shipwarden', ttl: 2, alg: 'RS256' },
  'urn:elsewhere': { audience: 'elsewhere', ttl: 600, alg: 'RS256' },
};

const CLIENT = {
  client_id: 'shipwarden-tests',
  token_endpoint_auth_method: 'none',
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1/callback'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
};

// The web console of `shipwarden serve` (#22): a public client (PKCE, no
// secret) signing people in through the authorization-code flow. Native, so
// that its loopback redirect URIs match on any port (RFC 8252 §7.3: the
// installed oidc-provider's client model strips a loopback port before
// comparing, for `application_type: native` only), as the test servers
// listen on free ports.
const CONSOLE_CLIENT = {
  client_id: 'shipwarden-console',
  token_endpoint_auth_method: 'none',
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1/console/callback', 'http://localhost/console/callback'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
};

function newKey(kty) {
  const { privateKey } =
    kty === 'EC'
      ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig' };
}

let keys = [newKey('RSA'), newKey('EC')];
const cookieKeys = [crypto.randomBytes(32).toString('base64url')];

function build(issuer) {
  const provider = new Provider(issuer, {
    clients: [CLIENT, CONSOLE_CLIENT],
    jwks: { keys },
    cookies: { keys: cookieKeys },
    pkce: { required: () => true },
    scopes: ['openid', 'api'],
    claims: { openid: ['sub'], groups: ['groups'] },
    async findAccount(_ctx, id) {
      if (!(id in USERS)) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, groups: USERS[id] }) };
    },
    async extraTokenClaims(_ctx, token) {
      // The groups travel in the access token, for the server to map to roles.
      return token.accountId in USERS ? { groups: USERS[token.accountId] } : undefined;
    },
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => 'urn:shipwarden',
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, indicator) {
          const r = RESOURCES[indicator];
          if (!r) throw new Provider.errors.InvalidTarget();
          return {
            scope: 'api',
            audience: r.audience,
            accessTokenTTL: r.ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: r.alg } },
          };
        },
      },
    },
  });
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider error:', err));
  return provider;
}

let base;
let otherBase;
let providers;
function rebuild() {
  providers = { main: build(base).callback(), other: build(otherBase).callback() };
}

// A tiny cookie jar for one flow.
function jar() {
  const cookies = new Map();
  return {
    take(response) {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const i = pair.indexOf('=');
        cookies.set(pair.slice(0, i), pair.slice(i + 1));
      }
    },
    header() {
      return [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    },
  };
}

// The authorization-code flow with PKCE, as a browser would go through it,
// logging in as `user` and consenting on the provider's own pages.
async function token(issuer, user, resource) {
  const verifier = crypto.randomBytes(32).toString('base64url');
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const cookies = jar();
  const go = async (url, init = {}) => {
    const response = await fetch(new URL(url, issuer), {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers ?? {}), cookie: cookies.header() },
    });
    cookies.take(response);
    return response;
  };
  const auth = new URL(`${issuer}/auth`);
  auth.search = new URLSearchParams({
    client_id: CLIENT.client_id,
    response_type: 'code',
    redirect_uri: CLIENT.redirect_uris[0],
    scope: 'openid api',
    resource,
    state: crypto.randomUUID(),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  let response = await go(auth);
  for (let step = 0; step < 10; step += 1) {
    const location = response.headers.get('location');
    if (!location) {
      throw new Error(`the flow stopped at ${response.status}: ${await response.text()}`);
    }
    const url = new URL(location, issuer);
    if (url.origin + url.pathname === CLIENT.redirect_uris[0]) {
      if (url.searchParams.get('error')) {
        throw new Error(`${url.searchParams.get('error')}: ${url.searchParams.get('error_description')}`);
      }
      const body = new URLSearchParams({
        grant_type: 'authorization_code',
        code: url.searchParams.get('code'),
        redirect_uri: CLIENT.redirect_uris[0],
        code_verifier: verifier,
        client_id: CLIENT.client_id,
        resource,
      });
      const tokens = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      return { status: tokens.status, body: await tokens.json() };
    }
    if (url.pathname.includes('/interaction/')) {
      // The page itself (as the browser shows it), then the form it submits.
      const page = await go(url);
      const html = await page.text();
      const prompt = html.includes('name="login"') ? 'login' : 'consent';
      const form = new URLSearchParams(prompt === 'login' ? { prompt, login: user, password: 'test' } : { prompt });
      response = await go(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      });
    } else {
      response = await go(url);
    }
  }
  throw new Error('the flow did not end');
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, base);
  try {
    if (url.pathname === '/__test/token' && req.method === 'GET') {
      const user = url.searchParams.get('user');
      const resource = url.searchParams.get('resource') ?? 'urn:shipwarden';
      const issuer = url.searchParams.get('issuer') === 'other' ? otherBase : base;
      const result = await token(issuer, user, resource);
      res.writeHead(result.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result.body));
      return;
    }
    if (url.pathname === '/__test/rotate' && req.method === 'POST') {
      keys = [newKey('RSA'), ...keys];
      rebuild();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kid: keys[0].kid }));
      return;
    }
    providers.main(req, res);
  } catch (err) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(err?.stack ?? err));
  }
});

const otherServer = http.createServer((req, res) => providers.other(req, res));

otherServer.listen(0, '127.0.0.1', () => {
  otherBase = `http://127.0.0.1:${otherServer.address().port}`;
  server.listen(0, '127.0.0.1', () => {
    base = `http://127.0.0.1:${server.address().port}`;
    rebuild();
    fs.writeFileSync(portFile, `${base}\n${otherBase}\n`);
    console.log(`oidc-provider on ${base} (another issuer, same keys, on ${otherBase})`);
  });
});

process.on('SIGTERM', () => process.exit(0));
