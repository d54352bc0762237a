// The console's scenarios of issue #22 in headless Chromium, on a real
// `shipwarden serve` and the real test OpenID provider (see harness.mjs for
// the modes). Each page is checked with axe-core and photographed at
// 1280x800 and 390x844, light and dark, into console/screenshots/.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { axe, browser, must, plan, shoot, startStack } from './harness.mjs';

const stack = await startStack();
const skip = stack.skip ? `not run: ${stack.skip}` : false;
if (skip) console.log(`NOTE: ${skip}`);

let chromium;
before(async () => {
  if (!skip) chromium = await browser();
});
after(async () => {
  await chromium?.close();
  await stack.stop?.();
});

const problems = [];

/** A new page of its own browser context (its own cookies), at 1280x800; its script errors and CSP violations are kept. */
async function newPage() {
  const context = await chromium.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  return page;
}


async function noSeriousViolations(page, what) {
  const violations = await axe(page);
  assert.deepEqual(violations, [], `${what}: axe-core found serious or critical violations`);
}

/** Takes `id` to staging_deployed with its QA gates measured: only the QA sign-off is missing. */
async function readyForQa(id) {
  const r = `/v1/releases/${id}`;
  await must(stack, 200, 'paul', 'POST', `${r}/approvals`, { approval: 'scope' });
  const run = await must(stack, 200, 'dana', 'POST', `${r}/advance`, { until: 'staging_deployed' });
  assert.equal(run.stage, 'staging_deployed', JSON.stringify(run));
  for (const [gate, value] of [
    ['coverage', 0.95],
    ['p95_latency', 120],
    ['critical_bugs', 0],
  ]) {
    await must(stack, 200, 'quinn', 'POST', `${r}/evidence`, { gate, value });
  }
}

test('the QA lead signs in, sees only the QA sign-off in the inbox, approves, and sees the release move on live', { skip }, async () => {
  const id = await plan(stack);
  await readyForQa(id);

  const page = await newPage();
  if (stack.mode === 'server') {
    await page.goto(`${stack.base}/console/`);
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    await noSeriousViolations(page, 'sign-in page');
    await shoot(page, 'signin');
  }
  await stack.signIn(page, 'quinn');
  await page.getByRole('link', { name: 'Waiting for me' }).click();
  const items = page.locator('.inbox-item');
  await items.first().waitFor();
  // On a fresh server this release is the only one; a dev harness reused across runs
  // (CONSOLE_BASE) has older ones, so there only this release's items are checked.
  const mine = stack.fresh ? items : page.locator(`.inbox-item[data-release="${id}"]`);
  assert.equal(await mine.count(), 1, await page.locator('.inbox').innerText());
  assert.equal(await mine.first().getAttribute('data-approval'), 'qa_signoff');
  assert.equal(await mine.first().getAttribute('data-release'), id);
  await noSeriousViolations(page, 'inbox');
  await shoot(page, 'inbox');

  await page.locator(`.inbox-item[data-release="${id}"]`).getByRole('link', { name: id }).click();
  await page.locator('.live-live').waitFor();
  // A marker that a reload would lose: the stage must change without one.
  await page.evaluate(() => {
    window.notReloaded = true;
  });
  await page.locator('[data-approve="qa_signoff"]').click();
  await page.locator('tr[data-approval="qa_signoff"]').waitFor();
  assert.match(await page.locator('tr[data-approval="qa_signoff"]').innerText(), /quinn/);

  await must(stack, 200, 'dana', 'POST', `/v1/releases/${id}/advance`, { until: 'qa_verified' });
  await page.locator('[data-testid="stage"]', { hasText: 'qa_verified' }).waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was not reloaded');
  await page.locator('.path li.current[data-stage="qa_verified"]').waitFor();
  await noSeriousViolations(page, 'release page');
  await shoot(page, 'release');
  // Next the integration tests, which people run and report: a control for it appeared.
  await page.locator('[data-report="integration_tests"]').click();
  await page.locator('.actions .ok', { hasText: 'Report integration_tests: done.' }).waitFor();
  await page.locator('.ways [data-way="integration_tested"]', { hasText: 'Nothing missing' }).waitFor();
  await page.context().close();
});

test('the QA lead rejects the sign-off with a reason, advancing is refused naming it, and approving lifts it live', { skip }, async () => {
  const id = await plan(stack);
  await readyForQa(id);
  const r = `/v1/releases/${id}`;

  // dana (deployment engineer) watches the release page; she may advance, not sign off.
  const dana = await newPage();
  await stack.signIn(dana, 'dana');
  await dana.goto(`${stack.base}/console/releases/${id}`);
  await dana.locator('.live-live').waitFor();
  await dana.evaluate(() => {
    window.notReloaded = true;
  });
  assert.equal(await dana.locator('[data-reject]').count(), 0, 'dana sees no reject control');
  assert.equal(await dana.locator('[data-approve]').count(), 0, 'dana sees no approve control');
  // A forged rejection from her page, with her own session and CSRF token: the API refuses her role.
  const forged = await dana.evaluate(async (path) => {
    const { csrf } = await (await fetch('/console/session')).json();
    const answer = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ approval: 'qa_signoff', comment: 'forged' }),
    });
    return { status: answer.status, body: await answer.json() };
  }, `${r}/rejections`);
  assert.equal(forged.status, 403, JSON.stringify(forged.body));

  const quinn = await newPage();
  await stack.signIn(quinn, 'quinn');
  await quinn.goto(`${stack.base}/console/releases/${id}`);
  await quinn.locator('.live-live').waitFor();
  await quinn.evaluate(() => {
    window.notReloaded = true;
  });
  // Without the CSRF header her own session is refused too.
  const noCsrf = await quinn.evaluate(async (path) => {
    const answer = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ approval: 'qa_signoff', comment: 'no header' }),
    });
    return answer.status;
  }, `${r}/rejections`);
  assert.equal(noCsrf, 403);
  await quinn.locator('[data-approval-actions="qa_signoff"]').scrollIntoViewIfNeeded();
  await noSeriousViolations(quinn, 'release page with approve and reject controls');
  await shoot(quinn, 'reject-control');
  // An empty reason is not sent: the browser asks for one; blanks are caught by the page.
  const reason = quinn.getByLabel('Reason to reject qa_signoff');
  await quinn.locator('[data-reject="qa_signoff"]').click();
  assert.equal(await reason.evaluate((i) => i.validity.valueMissing), true, 'the reason is required');
  await reason.fill('   ');
  await quinn.locator('[data-reject="qa_signoff"]').click();
  await quinn.locator('.actions .problem', { hasText: 'needs a reason' }).waitFor();
  let status = await must(stack, 200, 'rita', 'GET', r);
  assert.deepEqual(status.state.rejections, [], 'nothing was sent');

  await reason.fill('checkout fails on Safari');
  await quinn.locator('[data-reject="qa_signoff"]').click();
  const row = quinn.locator('tr[data-rejection="qa_signoff"][data-standing="true"]');
  await row.waitFor();
  // Through the console's session the channel is `api`; behind dev.mjs (a bearer token) the API's default, `cli`.
  const channel = stack.mode === 'server' ? 'api' : 'cli';
  assert.match(await row.innerText(), new RegExp(`quinn \\(qa_lead\\)[\\s\\S]*via ${channel}[\\s\\S]*checkout fails on Safari[\\s\\S]*standing`));
  assert.equal(await quinn.locator('[data-reject="qa_signoff"]').count(), 0, 'rejected already: only approving is offered');
  assert.equal(await quinn.locator('[data-approve="qa_signoff"]').count(), 1);
  status = await must(stack, 200, 'rita', 'GET', r);
  assert.deepEqual(
    status.state.rejections.map((x) => [x.user, x.role, x.channel, x.comment]),
    [['quinn', 'qa_lead', channel, 'checkout fails on Safari']],
  );
  await noSeriousViolations(quinn, 'release page with a rejection');
  await shoot(quinn, 'rejection');

  // Live on dana's page (server-sent events, no reload): the rejection, its reason, the timeline.
  await dana.locator('tr[data-rejection="qa_signoff"][data-standing="true"]', { hasText: 'checkout fails on Safari' }).waitFor({ timeout: 5000 });
  await dana.locator('.timeline li[data-event="rejected"][data-live="true"]', { hasText: 'reason checkout fails on Safari' }).waitFor();
  await dana.locator('.ways [data-way="qa_verified"]', { hasText: 'rejected by quinn (qa_lead)' }).waitFor();
  // Advancing stops at the rejection, with its rule and who rejected it and why.
  await dana.getByRole('button', { name: 'Advance' }).click();
  const stopped = dana.locator('.actions .problem');
  await stopped.waitFor();
  const text = await stopped.innerText();
  assert.match(text, /Rule R-\d+[a-z]? at stage staging_deployed/, text);
  assert.match(text, /R-\d+[a-z]?[\s\S]*approval "qa_signoff" rejected by quinn \(qa_lead\) on .+: checkout fails on Safari/, text);
  assert.equal(await dana.evaluate(() => window.notReloaded), true, 'dana\'s page was not reloaded');
  await noSeriousViolations(dana, 'release page with an advance refused by a rejection');
  await shoot(dana, 'rejection-refused');
  assert.equal((await must(stack, 200, 'rita', 'GET', r)).state.stage, 'staging_deployed');

  // quinn's inbox still lists the sign-off (approving lifts her rejection), saying who rejected it and why.
  await quinn.getByRole('link', { name: 'Waiting for me' }).click();
  const item = quinn.locator(`.inbox-item[data-release="${id}"][data-approval="qa_signoff"]`);
  await item.locator('.rejection[data-rejected-by="quinn"]', { hasText: 'checkout fails on Safari' }).waitFor();
  assert.match(await item.innerText(), /Rejected by quinn \(qa_lead, .+\): checkout fails on Safari/);
  await noSeriousViolations(quinn, 'inbox with a rejection');
  await shoot(quinn, 'inbox-rejection');
  await item.getByRole('link', { name: id }).click();
  await quinn.locator('.live-live').waitFor();

  // The QA lead approves: the rejection is lifted; dana advances and both pages follow live.
  await quinn.locator('[data-approve="qa_signoff"]').click();
  await quinn.locator('tr[data-rejection="qa_signoff"][data-standing="false"]', { hasText: 'lifted' }).waitFor();
  await quinn.locator('tr[data-approval="qa_signoff"]', { hasText: 'quinn' }).waitFor();
  await dana.locator('tr[data-rejection="qa_signoff"][data-standing="false"]').waitFor({ timeout: 5000 });
  await dana.getByRole('button', { name: 'Advance' }).click();
  await dana.locator('[data-testid="stage"]', { hasText: 'qa_verified' }).waitFor({ timeout: 10000 });
  await quinn.locator('[data-testid="stage"]', { hasText: 'qa_verified' }).waitFor({ timeout: 5000 });
  assert.equal(await quinn.evaluate(() => window.notReloaded), true, 'quinn\'s page was not reloaded');
  assert.equal(await dana.evaluate(() => window.notReloaded), true, 'dana\'s page was not reloaded');
  await dana.context().close();
  await quinn.context().close();
});

test('the CTO approves an emergency release', { skip }, async () => {
  const id = await plan(stack, 'emergency', {
    hotfix: { ticket: 'HOTFIX-1', summary: 'checkout fails for every card', justification: 'customers cannot pay' },
  });
  await must(stack, 200, 'paul', 'POST', `/v1/releases/${id}/approvals`, { approval: 'scope' });
  await must(stack, 200, 'dana', 'POST', `/v1/releases/${id}/advance`, { until: 'built' });

  const page = await newPage();
  await stack.signIn(page, 'casey');
  await page.goto(`${stack.base}/console/releases/${id}`);
  await page.locator('[data-approve="emergency"]').click();
  await page.locator('tr[data-approval="emergency"]').waitFor();
  assert.match(await page.locator('tr[data-approval="emergency"]').innerText(), /casey/);
  const status = await must(stack, 200, 'rita', 'GET', `/v1/releases/${id}`);
  assert.ok(status.state.approvals.some((a) => a.approval === 'emergency'), JSON.stringify(status.state.approvals));

  // The pre-deployment checks are still open: one is recorded from the page, then advancing stops on the rest.
  await page.locator('select[name="gate"]').selectOption('cpu@prod');
  await page.locator('input[name="value"]').fill('35');
  await page.getByRole('button', { name: 'Record evidence' }).click();
  await page.locator('.gates tr', { hasText: 'reported by casey' }).waitFor();
  await page.getByRole('button', { name: 'Advance' }).click();
  const stopped = page.locator('.actions .problem');
  await stopped.waitFor();
  assert.match(await stopped.innerText(), /Rule R-\d+[a-z]? at stage built/);
  assert.match(await page.locator('.actions').innerText(), /Advance: waiting at built/);
  await page.context().close();
});

test('without the role there is no approve button, and forged requests get 403', { skip }, async () => {
  const id = await plan(stack);
  await readyForQa(id);

  const page = await newPage();
  await stack.signIn(page, 'dana');
  await page.goto(`${stack.base}/console/releases/${id}`);
  await page.locator('.ways [data-way="qa_verified"]').waitFor();
  assert.equal(await page.locator('[data-approve]').count(), 0, 'dana (deployment engineer) sees no approve button');
  // A forged approval from the page, with dana's own session and CSRF token: the API refuses her role.
  const forged = await page.evaluate(async (path) => {
    const { csrf } = await (await fetch('/console/session')).json();
    const r = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ approval: 'qa_signoff' }),
    });
    return { status: r.status, body: await r.json() };
  }, `/v1/releases/${id}/approvals`);
  assert.equal(forged.status, 403, JSON.stringify(forged.body));
  await page.context().close();

  // The QA lead's session without the CSRF header: refused too, naming CSRF.
  const qa = await newPage();
  await stack.signIn(qa, 'quinn');
  const noCsrf = await qa.evaluate(async (path) => {
    const r = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ approval: 'qa_signoff' }),
    });
    return { status: r.status, body: await r.json() };
  }, `/v1/releases/${id}/approvals`);
  assert.equal(noCsrf.status, 403, JSON.stringify(noCsrf.body));
  assert.match(JSON.stringify(noCsrf.body), /CSRF/i);
  // Another site's page posting a form at the API with the QA lead's cookie (127.0.0.1 on
  // another port is the same site: SameSite=Lax lets the cookie go): no CSRF header, refused.
  const evil = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<form method="post" enctype="text/plain" action="${stack.base}/v1/releases/${id}/approvals">
<input name='{"approval":"qa_signoff","x":"' value='"}'></form><script>document.forms[0].submit()</script>`);
  });
  await new Promise((resolve) => evil.listen(0, '127.0.0.1', resolve));
  try {
    const answer = qa.waitForResponse((r) => r.url().endsWith(`/v1/releases/${id}/approvals`));
    await qa.goto(`http://127.0.0.1:${evil.address().port}/`);
    assert.equal((await answer).status(), 403);
  } finally {
    evil.close();
  }
  const status = await must(stack, 200, 'rita', 'GET', `/v1/releases/${id}`);
  assert.ok(!status.state.approvals.some((a) => a.approval === 'qa_signoff'), 'nothing was approved');
  await qa.context().close();
});

test('a refusal is shown with its rule and each unmet requirement', { skip }, async () => {
  // Production is booked for one release; the page books the same hours for another: R-6e refuses.
  const hour = stack.slot();
  const first = await plan(stack);
  await must(stack, 200, 'rita', 'POST', `/v1/releases/${first}/bookings`, { environment: 'prod', start: `${hour}:00:00Z`, duration: '1h' });
  const id = await plan(stack);
  const page = await newPage();
  await stack.signIn(page, 'rita');
  await page.goto(`${stack.base}/console/releases/${id}`);
  await page.locator('select[name="environment"]').selectOption('prod');
  await page.locator('input[name="start"]').fill(`${hour}:30`);
  await page.getByRole('button', { name: 'Schedule' }).click();
  const problem = page.locator('.actions .problem');
  await problem.waitFor();
  const text = await problem.innerText();
  assert.match(text, /Rule R-6e at stage planned/, text);
  assert.match(text, new RegExp(`prod is booked for ${first}`), text);
  assert.equal(await problem.locator('.unmet > li').count(), 1, text);
  await noSeriousViolations(page, 'release page with a refusal');
  await shoot(page, 'refusal');
  const status = await must(stack, 200, 'rita', 'GET', `/v1/releases/${id}`);
  assert.deepEqual(status.state.bookings, [], 'nothing was booked');
  await page.context().close();
});

test('the calendar shows a conflict, and the board lists the releases', { skip }, async () => {
  const id = await plan(stack);
  await must(stack, 200, 'rita', 'POST', `/v1/releases/${id}/bookings`, { environment: 'test', start: `${stack.slot()}:00:00Z`, duration: '1h' });

  const page = await newPage();
  await stack.signIn(page, 'rita');
  await page.getByRole('link', { name: 'Calendar' }).click();
  const row = page.locator('tr[data-conflict="true"]', { hasText: id });
  await row.waitFor();
  assert.match(await row.innerText(), /R-6b/);
  assert.ok(await page.locator('a[href*="format=ics"]').count());
  await noSeriousViolations(page, 'calendar');
  await shoot(page, 'calendar');

  await page.getByRole('link', { name: 'Board' }).click();
  await page.locator('.release-row').first().waitFor();
  assert.ok(await page.locator(`.release-row[data-release="${id}"]`).count());
  await page.locator('select').first().selectOption('shop');
  await page.locator('.release-row').first().waitFor();
  await noSeriousViolations(page, 'board');
  await shoot(page, 'board');

  // Sign-out: the session is gone, the sign-in page shows.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  assert.equal((await page.request.get(`${stack.base}/console/session`)).status(), 401);
  assert.equal((await page.request.get(`${stack.base}/v1/releases`)).status(), 401);
  await noSeriousViolations(page, 'sign-in page');
  if (stack.mode !== 'server') await shoot(page, 'signin');
  await page.context().close();
});

// Last: every page of the scenarios above.
test('the pages broke no CSP rule and threw no error', { skip }, () => {
  assert.deepEqual(problems, []);
});
