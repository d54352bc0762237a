// A DEVELOPMENT AID, not part of the product: serves console/dist under
// /console/ and proxies /v1/* to a running `shipwarden serve`, adding
// `Authorization: Bearer <token>` of a user whose token it gets from the test
// OpenID provider (`GET {issuer}/__test/token?user=U&resource=urn:shipwarden`).
// It also stands in for the console routes a binary without the console's
// server half lacks (`/console/session`, `/console/logout`, `/v1/me`,
// `/v1/inbox`, `/v1/projects/{p}/policy`), with the contract's shapes:
//   - roles come from the `[users.NAME] roles = [...]` tables of the
//     configuration files named in SHIPWARDEN_CONFIG (`:`-separated);
//   - the inbox is computed from the real API's releases and statuses;
//   - the policy is the built-in default policy (core/src/policy/defaults.rs).
// When the upstream answers a route itself (the server half merged), its answer wins.
//
//   SHIPWARDEN_URL=http://127.0.0.1:8080 SHIPWARDEN_TEST_OIDC_ISSUER=http://127.0.0.1:9000 \
//   SHIPWARDEN_CONFIG=path/to/shipwarden.toml node dev.mjs [PORT]
//
// Who you are: the `sw_dev_user` cookie, set by GET /console/dev/as?user=quinn&next=/console/inbox
// (default: CONSOLE_USER, else rita). With DEV_SIGNIN=oidc, /console/login signs in for real
// instead: the authorization-code flow with PKCE through the provider's own login and consent
// pages (its public test client `shipwarden-tests`, redirect http://127.0.0.1:PORT/callback),
// the token kept here against a random `sw_dev_session` cookie, as the server half keeps its
// sessions. Prints `console on http://127.0.0.1:PORT/console/`.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import * as http from 'node:http';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const upstream = (process.env.SHIPWARDEN_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const issuer = process.env.SHIPWARDEN_TEST_OIDC_ISSUER;
const defaultUser = process.env.CONSOLE_USER || 'rita';
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** `{project: {user: [roles]}}` from the configuration files. */
function rolesFromConfigs() {
  const out = {};
  for (const path of (process.env.SHIPWARDEN_CONFIG || '').split(':').filter(Boolean)) {
    const text = readFileSync(path, 'utf8');
    const project = text.match(/\[project\][^[]*?name\s*=\s*"([^"]+)"/)?.[1] ?? 'unknown';
    const users = (out[project] = {});
    for (const m of text.matchAll(/\[users\.([A-Za-z0-9_.-]+)\]\s*\n\s*roles\s*=\s*\[([^\]]*)\]/g)) {
      users[m[1]] = [...m[2].matchAll(/"([^"]+)"/g)].map((r) => r[1]);
    }
  }
  return out;
}
const ROLES = rolesFromConfigs();
const projectsOf = (user) =>
  Object.entries(ROLES)
    .filter(([, users]) => user in users)
    .map(([name, users]) => ({ name, roles: users[user] }));

const tokens = new Map();
async function tokenOf(user) {
  const cached = tokens.get(user);
  if (cached && cached.until > Date.now()) return cached.token;
  if (!issuer) throw new Error('set SHIPWARDEN_TEST_OIDC_ISSUER (the test provider) to get tokens');
  const r = await fetch(`${issuer}/__test/token?user=${encodeURIComponent(user)}&resource=urn:shipwarden`);
  if (!r.ok) throw new Error(`the provider refused a token for ${user}: ${r.status} ${await r.text()}`);
  const body = await r.json();
  tokens.set(user, { token: body.access_token, until: Date.now() + Math.max(10, (body.expires_in ?? 600) - 60) * 1000 });
  return body.access_token;
}

const SIGNED_OUT = '-';
const realSignIn = process.env.DEV_SIGNIN === 'oidc';
/** Signed-in sessions of DEV_SIGNIN=oidc: id -> {user, token, until}. */
const sessions = new Map();
/** Sign-ins under way: state -> {verifier, next}. */
const pending = new Map();
const cookie = (req, name) => new RegExp(`(?:^|;\\s*)${name}=([A-Za-z0-9_.-]+)`).exec(req.headers.cookie || '')?.[1];

// A real session first; then the user switch (`-` after a sign-out: nobody, 401); then the default
// user, unless sign-in is real.
function userOf(req) {
  const session = sessions.get(cookie(req, 'sw_dev_session'));
  if (session && session.until > Date.now()) {
    tokens.set(session.user, { token: session.token, until: session.until });
    return session.user;
  }
  return cookie(req, 'sw_dev_user') || (realSignIn ? SIGNED_OUT : defaultUser);
}

/** GET /console/login: to the provider's authorization endpoint, with PKCE (S256). */
function login(res, next, port) {
  const state = randomBytes(16).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  pending.set(state, { verifier, next });
  const auth = new URL(`${issuer}/auth`);
  auth.search = new URLSearchParams({
    client_id: 'shipwarden-tests',
    response_type: 'code',
    redirect_uri: `http://127.0.0.1:${port}/callback`,
    scope: 'openid api',
    resource: 'urn:shipwarden',
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  res.writeHead(302, { location: auth.href }).end();
}

/** GET /callback: the code for a token at the token endpoint, a session, back to `next`. */
async function callback(res, url, port) {
  const flow = pending.get(url.searchParams.get('state') || '');
  pending.delete(url.searchParams.get('state') || '');
  const fail = (why) => res.writeHead(400, { 'content-type': 'text/plain' }).end(`sign-in failed: ${why}`);
  if (!flow) return fail('unknown state');
  if (url.searchParams.get('error')) return fail(url.searchParams.get('error'));
  const r = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: url.searchParams.get('code') || '',
      redirect_uri: `http://127.0.0.1:${port}/callback`,
      code_verifier: flow.verifier,
      client_id: 'shipwarden-tests',
      resource: 'urn:shipwarden',
    }),
  });
  const body = await r.json();
  if (!r.ok) return fail(body.error_description || body.error || r.status);
  const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString());
  const id = randomBytes(32).toString('base64url');
  sessions.set(id, { user: claims.sub, token: body.access_token, until: Date.now() + (body.expires_in - 30) * 1000 });
  res
    .writeHead(303, {
      location: flow.next,
      'set-cookie': [`sw_dev_session=${id}; HttpOnly; SameSite=Lax; Path=/`, 'sw_dev_user=; Path=/; Max-Age=0'],
    })
    .end();
}
const csrfOf = (user) => `dev-csrf-${user}`;

function send(res, status, body, headers = {}) {
  const json = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(json);
}
const problem = (res, status, code, detail) =>
  send(res, status, { type: 'about:blank', title: code.toLowerCase(), status, code, detail }, {
    'content-type': 'application/problem+json',
  });

async function api(user, path) {
  const r = await fetch(`${upstream}${path}`, { headers: { authorization: `Bearer ${await tokenOf(user)}` } });
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.json();
}

const FINAL = ['rolled_back', 'cancelled', 'closed'];
// Steps people report (POST /reports), not steps the engine runs.
const REPORTED = ['integration_tests', 'demo', 'smoke_test'];

/** The rejections of the approval `u` by one of its roles that its author has not lifted by approving since. */
function standingRejections(state, u) {
  return (state.rejections || [])
    .filter((x) => x.approval === u.approval && u.roles.includes(x.role))
    .filter((x) => !(state.approvals || []).some((a) => a.approval === x.approval && a.user === x.user && Date.parse(a.at) >= Date.parse(x.at)))
    .map((x) => ({ user: x.user, role: x.role, reason: x.comment, at: x.at }));
}

/** The inbox of `user`, from the real API (the contract's rules, less separation of duties). */
async function inbox(user) {
  const items = [];
  const releases = [];
  for (let offset = 0; offset !== null && offset !== undefined; ) {
    const page = await api(user, `/v1/releases?limit=500&offset=${offset}`);
    releases.push(...page.releases);
    offset = page.next_offset;
  }
  for (const r of releases) {
    if (FINAL.includes(r.stage)) continue;
    const id = r.id || r.release;
    const roles = projectsOf(user).find((p) => p.name === r.project)?.roles ?? [];
    if (!roles.length) continue;
    const status = await api(user, `/v1/releases/${encodeURIComponent(id)}`);
    const gave = (status.state.approvals || []).filter((a) => a.user === user).map((a) => a.approval);
    for (const [to, refusal] of status.next) {
      for (const u of refusal?.unmet || []) {
        const mine =
          (u.requirement === 'approval' &&
            u.roles.some((x) => roles.includes(x)) &&
            !gave.includes(u.approval) &&
            !(u.given_by || []).includes(user)) ||
          (u.requirement === 'gate' && roles.includes('qa_lead') && !u.environment) ||
          (u.requirement === 'step' && u.status === 'missing' && REPORTED.includes(u.step));
        if (!mine) continue;
        const item = { release: id, project: r.project, version: r.version, kind: r.kind, stage: r.stage, to, unmet: u };
        // An approval carries its standing rejections (R-2b), as the server's inbox does.
        if (u.requirement === 'approval') item.rejections = standingRejections(status.state, u);
        items.push(item);
      }
    }
  }
  return { items };
}

const STAGES = [
  'planned', 'scope_approved', 'built', 'staging_deployed', 'qa_verified', 'integration_tested', 'test_deployed',
  'accepted', 'prod_ready', 'deploying', 'verifying', 'released', 'rolling_back', 'rolled_back', 'cancelled', 'closed',
];
const PROD_CHECKS = ['cpu', 'memory', 'disk_free', 'tls_days_left', 'db_connectivity', 'network', 'migrations_rehearsed', 'dependency_drift', 'artifact_version'];
const t = (from, to, more = {}) => ({ from, to, kinds: [], gates: [], approvals: [], steps: [], ...more });
const policy = (project) => ({
  project,
  stages: STAGES,
  transitions: [
    t('planned', 'scope_approved', { approvals: ['scope'] }),
    t('scope_approved', 'built', { gates: ['untracked_commits', 'unreviewed_pulls'], steps: ['build', 'publish_artifact', 'tag'] }),
    t('built', 'staging_deployed', { steps: ['deploy'] }),
    t('staging_deployed', 'qa_verified', { approvals: ['qa_signoff'], gates: ['coverage', 'critical_bugs', 'p95_latency'] }),
    t('qa_verified', 'integration_tested', { steps: ['integration_tests'] }),
    t('integration_tested', 'test_deployed', { steps: ['deploy', 'demo'] }),
    t('test_deployed', 'accepted', { approvals: ['acceptance'], gates: ['docs_reviewed'] }),
    t('accepted', 'prod_ready', { gates: PROD_CHECKS, steps: ['backup', 'restore_test'] }),
    t('built', 'prod_ready', { kinds: ['emergency'], approvals: ['emergency'], gates: PROD_CHECKS, steps: ['backup'] }),
    t('prod_ready', 'deploying'),
    t('deploying', 'verifying', { steps: ['deploy'] }),
    t('verifying', 'released', { gates: ['response_time'], steps: ['smoke_test'] }),
  ],
  time_zone: 'UTC',
  environments: ['dev', 'staging', 'test', 'prod'].map((name) => ({ name, production: name === 'prod' })),
});

function serveAsset(req, res, name) {
  const file = join(dist, 'assets', name);
  if (name.includes('/') || name.includes('..') || !existsSync(file)) return problem(res, 404, 'NOT_FOUND', 'no such asset');
  const type = { '.js': 'text/javascript', '.css': 'text/css' }[extname(name)] || 'application/octet-stream';
  const gz = /\bgzip\b/.test(req.headers['accept-encoding'] || '') && existsSync(`${file}.gz`);
  res.writeHead(200, {
    'content-type': type,
    'cache-control': 'public, max-age=31536000, immutable',
    vary: 'Accept-Encoding',
    ...(gz ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(readFileSync(gz ? `${file}.gz` : file));
}

/** Proxies `req` to the upstream as `user`; streams the answer (SSE included). */
async function proxy(req, res, user) {
  const headers = { ...req.headers, authorization: `Bearer ${await tokenOf(user)}` };
  delete headers.host;
  delete headers.cookie;
  delete headers.origin;
  delete headers['x-csrf-token'];
  const body = ['GET', 'HEAD'].includes(req.method) ? undefined : req;
  const r = await fetch(`${upstream}${req.url}`, { method: req.method, headers, body, duplex: 'half' });
  const out = {};
  r.headers.forEach((v, k) => {
    if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
  });
  res.writeHead(r.status, out);
  res.flushHeaders(); // an event stream's headers go now, not with its first event
  if (!r.body) return res.end();
  req.on('close', () => r.body.cancel().catch(() => {}));
  for await (const chunk of r.body) res.write(chunk);
  res.end();
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://dev');
  const user = userOf(req);
  try {
    if (url.pathname === '/console') return res.writeHead(308, { location: '/console/' }).end();
    if (url.pathname === '/console/dev/as') {
      const who = url.searchParams.get('user') || defaultUser;
      const next = url.searchParams.get('next') || '/console/';
      return res
        .writeHead(303, { location: next.startsWith('/console/') ? next : '/console/', 'set-cookie': `sw_dev_user=${who}; Path=/; SameSite=Lax` })
        .end();
    }
    if (user === SIGNED_OUT && (url.pathname === '/console/session' || url.pathname.startsWith('/v1/'))) {
      return problem(res, 401, 'UNAUTHENTICATED', 'signed out (dev harness): /console/login signs in again');
    }
    if (url.pathname === '/console/session') {
      return send(res, 200, { user, csrf: csrfOf(user), expires: new Date(Date.now() + 8 * 3600e3).toISOString(), projects: projectsOf(user) });
    }
    if (url.pathname === '/console/logout' && req.method === 'POST') {
      if (req.headers['x-csrf-token'] !== csrfOf(user)) return problem(res, 403, 'FORBIDDEN', 'CSRF token missing or wrong');
      sessions.delete(cookie(req, 'sw_dev_session'));
      return res
        .writeHead(204, { 'set-cookie': [`sw_dev_user=${SIGNED_OUT}; Path=/; SameSite=Lax`, 'sw_dev_session=; Path=/; Max-Age=0'] })
        .end();
    }
    if (url.pathname === '/console/login') {
      const asked = url.searchParams.get('next') || '/console/';
      const next = asked.startsWith('/console/') ? asked : '/console/';
      if (realSignIn) return login(res, next, server.address().port);
      return res.writeHead(302, { location: `/console/dev/as?user=${defaultUser}&next=${encodeURIComponent(next)}` }).end();
    }
    if (url.pathname === '/callback' && realSignIn) return await callback(res, url, server.address().port);
    if (url.pathname.startsWith('/console/assets/')) return serveAsset(req, res, url.pathname.slice('/console/assets/'.length));
    if (url.pathname.startsWith('/console/')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', 'content-security-policy': CSP });
      return res.end(readFileSync(join(dist, 'index.html')));
    }
    if (url.pathname.startsWith('/v1/')) {
      // The session's CSRF rule of the contract, so the app is exercised as it will be.
      if (!['GET', 'HEAD'].includes(req.method) && req.headers['x-csrf-token'] !== csrfOf(user)) {
        return problem(res, 403, 'FORBIDDEN', 'CSRF token missing or wrong (X-CSRF-Token)');
      }
      const stand = {
        '/v1/me': () => ({ user, proof: { dev: { harness: 'console/dev.mjs' } }, projects: projectsOf(user) }),
        '/v1/inbox': () => inbox(user),
      };
      const policyOf = url.pathname.match(/^\/v1\/projects\/([^/]+)\/policy$/);
      if (req.method === 'GET' && (stand[url.pathname] || policyOf)) {
        const own = await fetch(`${upstream}${req.url}`, { headers: { authorization: `Bearer ${await tokenOf(user)}` } });
        if (own.status !== 404 && own.status !== 405) return proxy(req, res, user);
        return send(res, 200, policyOf ? policy(decodeURIComponent(policyOf[1])) : await stand[url.pathname]());
      }
      return await proxy(req, res, user);
    }
    if (url.pathname === '/') return res.writeHead(302, { location: '/console/' }).end();
    return await proxy(req, res, user);
  } catch (e) {
    if (!res.headersSent) problem(res, 502, 'DEV_HARNESS', String(e?.message || e));
    else res.end();
  }
});

server.listen(Number(process.argv[2] || process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`console on http://127.0.0.1:${server.address().port}/console/ (upstream ${upstream})`);
});
