// What the browser tests share: a REAL `shipwarden serve` (SHIPWARDEN_BIN) on
// SQLite in a temp dir, signed in against the real test OpenID provider
// (SHIPWARDEN_TEST_OIDC_ISSUER, started by scripts/lib/services.sh
// sw_start_oidc), API calls with the provider's bearer tokens, a headless
// Chromium (CHROMIUM, default /usr/bin/chromium) driven by playwright-core,
// sign-in through the provider's own login and consent pages, axe-core, and
// screenshots into console/screenshots/.
//
// Modes:
//   default          the server's console routes (issue #22's server half);
//                    when `/console/session` answers 404 the scenarios are
//                    skipped, saying so.
//   CONSOLE_DEV=1    the real server behind console/dev.mjs (started here):
//                    the page scenarios without the server half; "sign-in"
//                    is dev.mjs's user switch.
//   CONSOLE_DEV=oidc as CONSOLE_DEV=1, and dev.mjs signs in for real (DEV_SIGNIN=oidc):
//                    the provider's own login and consent pages, code + PKCE,
//                    a session cookie; the sign-in path of the default mode.
//   CONSOLE_BASE=URL a dev.mjs already running (e.g. `node tests/harness.mjs`,
//                    which starts the server and dev.mjs and prints the URL).
//
//   node tests/harness.mjs     start server + dev harness for debugging, print CONSOLE_BASE

import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const consoleDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const screenshots = join(consoleDir, 'screenshots');
export const USERS = { rita: 'release_manager', paul: 'product_owner', quinn: 'qa_lead', dana: 'deployment_engineer', casey: 'cto' };

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The project's configuration: the five users, OIDC, the console client, targets that run `sh`. */
export function configText(issuer, { console: withConsole = true, project = 'shop', emails = false } = {}) {
  const users = Object.entries(USERS)
    .map(([u, r]) => `[users.${u}]\nroles = ["${r}"]\n${emails ? `email = "${u}@example.com"\n` : ''}`)
    .join('\n');
  const day = (d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
  const [freezeStart, freezeEnd] = [`${day(-1)}T00:00:00`, `${day(60)}T00:00:00`];
  const target = (env) => `[[environments.${env}.targets]]
name = "${env}-1"
deploy = ["sh", "-c", "echo deployed $SHIPWARDEN_VERSION to ${env}-1"]
rollback = ["sh", "-c", "echo ${env}-1 rolled back"]
`;
  return `[project]
name = "${project}"
ticket_prefix = "SHOP"
repository = "repo"

[store]
kind = "sqlite"

[engine]
lease_wait = "1s"

${users}
[build]
command = ["sh", "-c", "mkdir -p dist && echo ${project} $SHIPWARDEN_VERSION > dist/${project}-$SHIPWARDEN_VERSION.txt"]
artifacts = { "${project}.txt" = "dist/${project}-{version}.txt" }

${['staging', 'test', 'prod'].map(target).join('\n')}
[policy.retry]
initial_backoff = "10ms"
max_backoff = "20ms"

[policy.transitions.prod_readiness]
gates = []
steps = []

[policy.calendar]
blackouts = []

# The test lab is closed: a booking of \`test\` is inside this freeze (a calendar conflict, R-6b).
[[policy.calendar.freezes]]
name = "test-lab-move"
environments = ["test"]
start = "${freezeStart}"
end = "${freezeEnd}"

[server]
rate_limit = 100000

[server.oidc]
issuer = "${issuer}"
audience = "shipwarden"
${withConsole ? '\n[server.console]\nclient_id = "shipwarden-console"\nresource = "urn:shipwarden"\n' : ''}`;
}

/** A project folder: a git repository with two ticketed commits, and the configuration. */
function projectDir(issuer, withConsole, { emails = false, extra = '' } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'sw-console-'));
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  const git = (...args) =>
    execFileSync('git', args, {
      cwd: repo,
      env: { ...process.env, ...gitEnv(dir) },
      stdio: 'ignore',
    });
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'app.txt'), 'one\n');
  git('add', '.');
  git('commit', '-q', '-m', 'SHOP-1: first');
  writeFileSync(join(repo, 'app.txt'), 'two\n');
  git('commit', '-q', '-am', 'SHOP-2: second');
  writeFileSync(join(dir, 'shipwarden.toml'), configText(issuer, { console: withConsole, emails }) + extra);
  return dir;
}

const gitEnv = (home) => ({
  HOME: home,
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
});

async function waitReady(base, child, log) {
  for (let i = 0; i < 300; i += 1) {
    if (child.exitCode !== null) return false;
    try {
      if ((await fetch(`${base}/readyz`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${base} did not become ready:\n${readFileSync(log, 'utf8')}`);
}

/**
 * Starts `shipwarden serve`; without the console section when this binary does not know it.
 * `options`: `emails` gives each user `NAME@example.com`; `extra` is TOML appended to the
 * configuration, `{base}` in it replaced by the server's base URL.
 */
export async function startServer(issuer, options = {}) {
  const bin = process.env.SHIPWARDEN_BIN;
  if (!bin) throw new Error('set SHIPWARDEN_BIN to a shipwarden binary');
  for (const withConsole of [true, false]) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const dir = projectDir(issuer, withConsole, { ...options, extra: (options.extra ?? '').replaceAll('{base}', base) });
    const log = join(dir, 'serve.log');
    const out = (await import('node:fs')).openSync(log, 'a');
    const child = spawn(bin, ['serve', '--config', join(dir, 'shipwarden.toml'), '--listen', `127.0.0.1:${port}`], {
      env: { ...process.env, ...gitEnv(dir), SHIPWARDEN_LOG: 'shipwarden=info' },
      stdio: ['ignore', out, out],
    });
    if (await waitReady(base, child, log)) {
      return {
        base,
        dir,
        config: join(dir, 'shipwarden.toml'),
        withConsole,
        stop() {
          child.kill('SIGTERM');
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    const text = readFileSync(log, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    if (!(withConsole && /console/.test(text))) throw new Error(`shipwarden serve exited:\n${text}`);
    // This binary predates [server.console] (the server half of #22): try without it.
  }
  throw new Error('unreachable');
}

const tokens = new Map();
/** A bearer token of `user` from the real provider (its own login and consent, driven by its test helper). */
export async function tokenOf(issuer, user) {
  const cached = tokens.get(user);
  if (cached && cached.until > Date.now()) return cached.token;
  const r = await fetch(`${issuer}/__test/token?user=${user}&resource=urn:shipwarden`);
  if (!r.ok) throw new Error(`token of ${user}: ${r.status} ${await r.text()}`);
  const body = await r.json();
  tokens.set(user, { token: body.access_token, until: Date.now() + 400_000 });
  return body.access_token;
}

/** Starts the dev harness (console/dev.mjs) in front of `server`; resolves to its base URL. */
export async function startDev(server, issuer) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(consoleDir, 'dev.mjs'), String(port)], {
    env: {
      ...process.env,
      SHIPWARDEN_URL: server.base,
      SHIPWARDEN_TEST_OIDC_ISSUER: issuer,
      SHIPWARDEN_CONFIG: server.config,
      ...(process.env.CONSOLE_DEV === 'oidc' ? { DEV_SIGNIN: 'oidc' } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => (String(d).includes('console on') ? resolve() : null));
    child.once('exit', (code) => reject(new Error(`dev.mjs exited ${code}`)));
  });
  return { base: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/**
 * The stack the scenarios run on, or `{skip: why}`. `api(user, method, path, body)`
 * answers `{status, body}`; `signIn(page, user)` leaves `page` signed in on the board.
 */
export async function startStack(options = {}) {
  const issuer = process.env.SHIPWARDEN_TEST_OIDC_ISSUER;
  const external = process.env.CONSOLE_BASE?.replace(/\/$/, '');
  if (!external && (!issuer || !process.env.SHIPWARDEN_BIN)) {
    const why = 'set SHIPWARDEN_TEST_OIDC_ISSUER (scripts/lib/services.sh sw_start_oidc) and SHIPWARDEN_BIN';
    if (process.env.SHIPWARDEN_REQUIRE_SERVERS) throw new Error(why);
    return { skip: why };
  }
  let server;
  let dev;
  let base = external;
  let mode = external ? 'dev' : process.env.CONSOLE_DEV ? 'dev' : 'server';
  if (!external) {
    server = await startServer(issuer, options);
    if (mode === 'dev') {
      dev = await startDev(server, issuer);
      base = dev.base;
    } else {
      base = server.base;
      const probe = await fetch(`${base}/console/session`);
      if (probe.status === 404) {
        server.stop();
        return {
          skip:
            'this shipwarden has no console routes (/console/session answers 404: the server half of #22 is not merged); ' +
            'CONSOLE_DEV=1 runs the page scenarios against console/dev.mjs',
        };
      }
    }
  }
  const api = async (user, method, path, body) => {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (mode === 'dev') {
      headers.cookie = `sw_dev_user=${user}`;
      headers['x-csrf-token'] = `dev-csrf-${user}`;
    } else {
      headers.authorization = `Bearer ${await tokenOf(issuer, user)}`;
    }
    const r = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await r.text();
    let parsed = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: r.status, body: parsed };
  };
  const signIn = async (page, user) => {
    // CONSOLE_DEV=oidc: dev.mjs signs in for real (DEV_SIGNIN=oidc), through the same pages.
    if (mode === 'dev' && process.env.CONSOLE_DEV !== 'oidc') {
      await page.goto(`${base}/console/dev/as?user=${user}&next=/console/`);
    } else {
      // The real flow: the console's sign-in page, the provider's login and consent pages, back to the console.
      await page.context().clearCookies();
      await page.goto(`${base}/console/`);
      await page.getByRole('link', { name: 'Sign in' }).click();
      await page.locator('input[name="login"]').fill(user);
      await page.locator('input[name="password"]').fill('any password');
      const login = page.url();
      await page.locator('button[type="submit"]').click();
      // Next: the consent page (another interaction) or, with consent already given, the console.
      await page.waitForURL(
        (u) => (u.pathname.includes('/interaction/') && u.href !== login) || u.href.startsWith(`${base}/console/`),
      );
      if (page.url().includes('/interaction/')) {
        // The consent page (a new interaction): continue.
        await page.locator('button[type="submit"]').first().click();
      }
    }
    await page.waitForURL((u) => u.href.startsWith(`${base}/console/`));
    await page.locator('.who').getByText(user).waitFor();
  };
  // Versions only go up (R-4c), also across runs on one dev harness.
  let minor = 0;
  const stamp = Math.floor(Date.now() / 1000) % 100_000;
  const nextVersion = () => `${stamp}.${(minor += 1)}.0`;
  // Booking slots no earlier run on the same dev harness took (R-6e refuses overlaps):
  // whole hours between 1 and about 13 days ahead (the calendar page shows 14).
  let slots = 0;
  const slot = () => {
    const hour = 3_600_000;
    const start = Math.ceil(Date.now() / hour) * hour + (24 + ((stamp * 7 + (slots += 2)) % 280)) * hour;
    return new Date(start).toISOString().slice(0, 13);
  };
  return {
    base,
    mode,
    slot,
    fresh: !external,
    api,
    signIn,
    issuer,
    nextVersion,
    project: 'shop',
    async stop() {
      dev?.stop();
      server?.stop();
    },
  };
}

/** Plans `kind` in `project` as rita; returns the release id. */
export async function plan(stack, kind = 'minor', extra = {}) {
  const version = stack.nextVersion();
  const body = { version, kind, tickets: ['SHOP-1'], ...extra };
  const r = await stack.api('rita', 'POST', `/v1/projects/${stack.project}/releases`, body);
  if (r.status !== 201) throw new Error(`plan ${version}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.plan?.release ?? `${stack.project}-${version}`;
}

/** Calls the API and fails unless it answers `want`. */
export async function must(stack, want, user, method, path, body) {
  const r = await stack.api(user, method, path, body);
  if (r.status !== want) throw new Error(`${user} ${method} ${path}: ${r.status} (wanted ${want}) ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Headless Chromium from Debian's package. */
export async function browser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true });
}

/** axe-core on `page`: the serious and critical violations (none expected). */
export async function axe(page) {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (an inline
  // <script> would be blocked, as it should be).
  await page.evaluate(readFileSync(join(consoleDir, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Screenshots of `page` as it is, at 1280x800 and 390x844, light and dark, into console/screenshots/. */
export async function shoot(page, name) {
  mkdirSync(screenshots, { recursive: true });
  const size = page.viewportSize();
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [w, h] of [
      [1280, 800],
      [390, 844],
    ]) {
      await page.setViewportSize({ width: w, height: h });
      await page.screenshot({ path: join(screenshots, `${name}-${w}x${h}-${scheme}.png`), fullPage: false });
      // Readable means no sideways scrolling of the page.
      const wide = await page.evaluate(() => {
        const width = document.documentElement.clientWidth;
        // Elements and text sticking out on the right, to say what to fix.
        const over = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n && over.length < 5; n = walker.nextNode()) {
          const range = document.createRange();
          range.selectNodeContents(n);
          const right = n.nodeType === 1 ? n.getBoundingClientRect().right : range.getBoundingClientRect().right;
          if (right > width + 1) over.push(`${n.nodeType === 1 ? n.tagName : JSON.stringify(n.textContent.slice(0, 40))} (${Math.round(right)} px)`);
        }
        return { scroll: document.documentElement.scrollWidth, over };
      });
      if (wide.scroll > w) throw new Error(`${name} at ${w}x${h}: the page is ${wide.scroll} px wide: ${wide.over.join(', ')}`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
  // And the whole page, to read everything below the fold.
  await page.screenshot({ path: join(screenshots, `${name}-1280-full-light.png`), fullPage: true });
  if (size) await page.setViewportSize(size);
}

// `node tests/harness.mjs`: the real server and the dev harness, for debugging by hand.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const issuer = process.env.SHIPWARDEN_TEST_OIDC_ISSUER;
  if (!issuer) throw new Error('set SHIPWARDEN_TEST_OIDC_ISSUER');
  const server = await startServer(issuer);
  const dev = await startDev(server, issuer);
  console.log(`server ${server.base} (${server.dir}); CONSOLE_BASE=${dev.base}`);
  process.on('SIGINT', () => {
    dev.stop();
    server.stop();
    process.exit(0);
  });
  process.on('SIGTERM', () => {
    dev.stop();
    server.stop();
    process.exit(0);
  });
}
