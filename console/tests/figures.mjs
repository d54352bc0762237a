// The console's figures of issue #22 (benches/RESULTS.md):
//   1. plans 1,000 releases through the API, concurrently;
//   2. first load of the board in headless Chromium: navigation start to the
//      first release row rendered (the app's `board:first-row` mark), cold
//      cache, median of several loads;
//   3. bytes transferred for the app's own code (its assets, gzip);
//   4. a live event's delay: from just before the request that appends it to
//      its line appearing on an open release page (an upper bound on
//      append -> shown).
//
//   SHIPWARDEN_BIN=… SHIPWARDEN_TEST_OIDC_ISSUER=… node tests/figures.mjs [RELEASES]
//
// Runs on the server's console (or, with CONSOLE_DEV=1, behind console/dev.mjs,
// which adds a proxy hop: say so when quoting).

import { browser, must, startStack } from './harness.mjs';

const COUNT = Number(process.argv[2] || 1000);
const LOADS = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const stack = await startStack();
if (stack.skip) {
  console.log(`NOTE: not run: ${stack.skip}`);
  process.exit(0);
}
const chromium = await browser();
try {
  // 1. A thousand releases, 16 requests at a time.
  const t0 = performance.now();
  const ids = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < COUNT) {
        next += 1;
        const version = stack.nextVersion();
        const kind = ['minor', 'patch', 'major'][next % 3];
        const body = await must(stack, 201, 'rita', 'POST', `/v1/projects/${stack.project}/releases`, {
          version,
          kind,
          tickets: ['SHOP-1'],
        });
        ids.push(body.plan?.release ?? `${stack.project}-${version}`);
      }
    }),
  );
  const planned = performance.now() - t0;
  const listed = await must(stack, 200, 'rita', 'GET', '/v1/releases?limit=1');
  console.log(`planned ${ids.length} releases through the API in ${(planned / 1000).toFixed(1)} s (list answers: ${JSON.stringify(listed).length} B for one row)`);

  // The API's own share: one page of the board (100 rows) as rita, median of 5.
  const pageTimes = [];
  for (let i = 0; i < 5; i += 1) {
    const t = performance.now();
    await must(stack, 200, 'rita', 'GET', '/v1/releases?limit=100');
    pageTimes.push(performance.now() - t);
  }
  console.log(`GET /v1/releases?limit=100 with ${COUNT} releases: median ${median(pageTimes).toFixed(0)} ms (${stack.mode === 'dev' ? 'through dev.mjs' : 'direct'})`);

  // 2 and 3. Cold loads of the board.
  const firstRows = [];
  let own = null;
  for (let i = 0; i < LOADS; i += 1) {
    const context = await chromium.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await stack.signIn(page, 'rita');
    // A fresh cache for the measured load: a new page on the signed-in context, cache disabled through CDP.
    const measured = await context.newPage();
    const cdp = await context.newCDPSession(measured);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const bytes = new Map();
    cdp.on('Network.loadingFinished', (e) => bytes.set(e.requestId, e.encodedDataLength));
    const urls = new Map();
    cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, { url: e.response.url, encoding: e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] }));
    await measured.goto(`${stack.base}/console/`);
    await measured.locator('.release-row').first().waitFor();
    const mark = await measured.evaluate(() => performance.getEntriesByName('board:first-row')[0]?.startTime);
    firstRows.push(mark);
    await measured.waitForTimeout(200);
    const assets = [...urls].filter(([, r]) => new URL(r.url).pathname.startsWith('/console/assets/'));
    own = assets.map(([id, r]) => ({ path: new URL(r.url).pathname, bytes: bytes.get(id), encoding: r.encoding }));
    await context.close();
  }
  console.log(`board, first screen of data (navigation start -> first row), ${COUNT} releases: median ${median(firstRows).toFixed(0)} ms of ${firstRows.map((x) => x.toFixed(0)).join(', ')} ms (goal < 1000 ms)`);
  const total = own.reduce((s, a) => s + (a.bytes || 0), 0);
  console.log(`app's own code transferred: ${total} B (${own.map((a) => `${a.path} ${a.bytes} B ${a.encoding || 'identity'}`).join('; ')}) (goal < 300 KB)`);

  // 4. A live event on an open release page.
  const context = await chromium.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await stack.signIn(page, 'rita');
  const id = ids[0];
  await page.goto(`${stack.base}/console/releases/${id}`);
  await page.locator('.live-live').waitFor();
  const delays = [];
  for (let i = 0; i < 10; i += 1) {
    await page.evaluate(() => {
      window.seenAt = null;
      const timeline = document.querySelector('.timeline');
      const before = timeline.querySelectorAll('li[data-live]').length;
      const observer = new MutationObserver(() => {
        if (timeline.querySelectorAll('li[data-live]').length > before) {
          window.seenAt = Date.now();
          observer.disconnect();
        }
      });
      observer.observe(timeline, { childList: true, subtree: true });
    });
    const sent = Date.now();
    await must(stack, 200, 'quinn', 'POST', `/v1/releases/${id}/evidence`, { gate: 'coverage', value: 0.9 + i / 1000 });
    await page.waitForFunction(() => window.seenAt !== null, null, { timeout: 5000 });
    delays.push((await page.evaluate(() => window.seenAt)) - sent);
  }
  console.log(`live event, request sent -> shown on the open release page: median ${median(delays)} ms, max ${Math.max(...delays)} ms of ${delays.length} (goal < 200 ms)`);
  await context.close();
} finally {
  await chromium.close();
  await stack.stop();
}
