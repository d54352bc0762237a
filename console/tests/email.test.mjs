// Approval by a one-time email link (issue #23, R-2b, R-2c), end to end in
// headless Chromium: a real `shipwarden serve` with `[[notify.smtp]]` to the
// local SMTP server (aiosmtpd saving into a Maildir, started by
// scripts/lib/services.sh sw_start_smtp), `[approval_links]` and
// `approval_requests = true`. serve's background sends the request; the test
// reads quinn's own mail, follows his Approve link, signs in as quinn through
// the real OpenID provider, comes back to the same link, confirms, and the
// approval is recorded with channel `email` and his OIDC proof. Following the
// link again shows the refusal (used already).

import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { axe, browser, must, plan, shoot, startStack } from './harness.mjs';

const smtp = {
  port: process.env.SHIPWARDEN_TEST_SMTP_STARTTLS_PORT,
  maildir: process.env.SHIPWARDEN_TEST_SMTP_MAILDIR,
  ca: process.env.SHIPWARDEN_TEST_SMTP_CA,
};
let skip = false;
let stack = {};
if (!smtp.port || !smtp.maildir || !smtp.ca) {
  const why = 'set SHIPWARDEN_TEST_SMTP_{STARTTLS_PORT,MAILDIR,CA} (scripts/lib/services.sh sw_start_smtp)';
  if (process.env.CONSOLE_REQUIRE || process.env.SHIPWARDEN_REQUIRE_SERVERS) throw new Error(why);
  skip = `not run: ${why}`;
} else if (process.env.CONSOLE_DEV || process.env.CONSOLE_BASE) {
  skip = 'not run: the email links need the real server (not the dev harness)';
} else {
  // The key serve signs and checks links with (inherited by the server process).
  process.env.SHIPWARDEN_TEST_LINK_KEY = 'the console tests link key, 32 bytes or more';
  stack = await startStack({
    emails: true,
    extra: `
[policy.duties]
approval_requests = true

[[notify.smtp]]
host = "localhost"
port = ${smtp.port}
from = "Releases <releases@example.com>"
ca_file = "${smtp.ca}"
to = { teams = ["eng@example.com"] }

[approval_links]
secret_env = "SHIPWARDEN_TEST_LINK_KEY"
console_url = "{base}"
`,
  });
  if (stack.skip) skip = `not run: ${stack.skip}`;
}
if (skip) console.log(`NOTE: ${skip}`);

let chromium;
before(async () => {
  if (!skip) chromium = await browser();
});
after(async () => {
  await chromium?.close();
  await stack.stop?.();
});

/** The text of the mail to `to` about `release` and `approval` (quoted-printable soft breaks joined), once it arrives. */
async function mailTo(to, release, approval) {
  const folder = join(smtp.maildir, 'new');
  for (let i = 0; i < 150; i += 1) {
    for (const name of readdirSync(folder)) {
      const raw = readFileSync(join(folder, name), 'utf8');
      const text = raw.replaceAll('=\r\n', '').replaceAll('=\n', '').replaceAll('=3D', '=');
      const addressed = text.split(/\r?\n/).some((l) => l.toLowerCase() === `to: ${to}`);
      if (addressed && text.includes(release) && text.includes(approval) && text.includes('/console/confirm?t=')) return text;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail to ${to} about ${approval} of ${release} in ${folder}`);
}

test('quinn follows the Approve link of his own mail, signs in, confirms, and the approval is recorded by email', { skip }, async () => {
  const id = await plan(stack);
  const r = `/v1/releases/${id}`;
  await must(stack, 200, 'paul', 'POST', `${r}/approvals`, { approval: 'scope' });
  const run = await must(stack, 200, 'dana', 'POST', `${r}/advance`, { until: 'staging_deployed' });
  assert.equal(run.stage, 'staging_deployed', JSON.stringify(run));

  const mail = await mailTo('quinn@example.com', id, 'qa_signoff');
  const link = mail.match(/Approve as quinn: (\S+)/)?.[1];
  assert.ok(link?.startsWith(`${stack.base}/console/confirm?t=`), mail);

  const context = await chromium.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(link);
  // Not signed in: sign in, and come back to the same link.
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.locator('input[name="login"]').fill('quinn');
  await page.locator('input[name="password"]').fill('any password');
  const login = page.url();
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((u) => (u.pathname.includes('/interaction/') && u.href !== login) || u.href.startsWith(`${stack.base}/console/`));
  if (page.url().includes('/interaction/')) await page.locator('button[type="submit"]').first().click();
  await page.waitForURL((u) => u.href.startsWith(`${stack.base}/console/confirm`));
  assert.equal(page.url(), link, 'back to the same link');

  const what = page.locator('[data-confirm-what]');
  await what.waitFor();
  assert.equal((await what.innerText()).trim(), `Approve qa_signoff of ${id} as quinn`);
  const before = await must(stack, 200, 'rita', 'GET', r);
  assert.equal(before.state.approvals.filter((a) => a.approval === 'qa_signoff').length, 0, 'opening the link changed nothing');
  assert.deepEqual(await axe(page), [], 'confirm page: axe-core found serious or critical violations');
  await shoot(page, 'confirm');

  await page.locator('[data-confirm]').click();
  await page.locator('[data-confirmed]').waitFor();
  const after = await must(stack, 200, 'rita', 'GET', r);
  const given = after.state.approvals.filter((a) => a.approval === 'qa_signoff');
  assert.equal(given.length, 1, JSON.stringify(after.state.approvals));
  assert.equal(given[0].user, 'quinn');
  assert.equal(given[0].channel, 'email');
  assert.deepEqual(given[0].proof, { kind: 'oidc', issuer: stack.issuer, subject: 'quinn' });
  assert.deepEqual(await axe(page), [], 'confirmed: axe-core found serious or critical violations');
  await shoot(page, 'confirm-done');

  // The same link again: refused, used already (R-2c).
  await page.goto(link);
  await page.locator('.problem', { hasText: 'used already' }).waitFor();
  assert.match(await page.locator('.problem').innerText(), /R-2c/);
  assert.deepEqual(await axe(page), [], 'refused: axe-core found serious or critical violations');
  await shoot(page, 'confirm-refused');
  assert.deepEqual(errors, []);
  await context.close();
});
