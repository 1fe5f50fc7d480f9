// The API reference page (GET /docs) in a real browser: Debian's chromium,
// headless, driven by playwright-core. Run by tests/browser.sh:
//
//   node docs.mjs BASE_URL OPERATION_IDS_FILE SCREENSHOT_PNG
//
// Passes when the page lists every operation of the spec (by operationId),
// shows the API's title, and neither requests anything beyond the server
// nor meets a failed request, an error status, a script error or a
// console error (a Content-Security-Policy violation is one); when one
// operation opened shows its responses; and when "Try it out" on GET
// /healthz gets the server's answer. Saves screenshots of the first
// screen (SCREENSHOT_PNG) and of the whole page with that operation open
// (the same name ending -full.png).
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, idsFile, shot] = process.argv.slice(2);
if (!base || !idsFile || !shot) {
  console.error('usage: node docs.mjs BASE_URL OPERATION_IDS_FILE SCREENSHOT_PNG');
  process.exit(2);
}
// The page is opened under a host name of its own, which the browser's
// resolver maps to the server's address: served from a name that is not
// loopback, Swagger UI behaves as in deployment (it exempts localhost and
// 127.0.0.1 from its online validator, for one). Every other name fails
// to resolve, so nothing could leave the machine even if the page tried.
const PAGE_HOST = 'keywork.test';
const served = new URL(base);
const pageUrl = new URL(base);
pageUrl.hostname = PAGE_HOST;
const origin = pageUrl.origin;
const expected = readFileSync(idsFile, 'utf8').split('\n').map((s) => s.trim())
  .filter((s) => s !== '');
// One budget for the whole test (tests/browser.sh kills it at 60 s): each
// step may take what is left of it, so a slow, busy machine only fails
// when the page is truly not there in time.
const BUDGET_MS = 52000;
const end = Date.now() + BUDGET_MS;
const left = () => Math.max(1000, end - Date.now());
const deadline = setTimeout(() => {
  console.error(`FAILED - the browser test took longer than ${BUDGET_MS / 1000} s`);
  process.exit(1);
}, BUDGET_MS + 3000);

const faults = [];
const requests = [];
let external = 0;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  timeout: left(),
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync',
    `--host-resolver-rules=MAP ${PAGE_HOST} ${served.hostname}, MAP * ~NOTFOUND`,
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Anything for another origin is refused (and counted below).
  await context.route('**/*', (route) =>
    new URL(route.request().url()).origin === origin ?
      route.continue() : route.abort('blockedbyclient'));
  const page = await context.newPage();
  // Every request the page makes, including those its Content-Security-
  // Policy blocks before they are sent.
  page.on('request', (req) => {
    const url = new URL(req.url());
    requests.push(req.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.origin !== origin) {
      external++;
      faults.push(`request beyond the server: ${req.url()}`);
    }
  });
  page.on('requestfailed', (req) => {
    if (new URL(req.url()).origin === origin)
      faults.push(`request failed: ${req.url()} (${req.failure()?.errorText})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400)
      faults.push(`${res.status()} for ${res.url()}`);
  });
  page.on('pageerror', (err) => faults.push(`script error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error')
      faults.push(`console error: ${msg.text()}`);
  });

  const res = await page.goto(`${origin}/docs`, { waitUntil: 'load', timeout: left() });
  if (res === null || res.status() !== 200)
    faults.push(`GET /docs answered ${res === null ? 'nothing' : res.status()}`);

  // Swagger UI renders after it has fetched /openapi.json: wait for every
  // operation's block (or, out of time, report what is missing).
  await page.waitForFunction((n) =>
    document.querySelectorAll('.opblock-summary-operation-id').length >= n,
  expected.length, { timeout: left() }).catch(() => {});

  const shown = await page.$$eval('.opblock-summary-operation-id',
    (els) => els.map((e) => e.textContent.trim()));
  const title = await page.$eval('.info .title', (e) => e.textContent)
    .catch(() => '');
  const missing = expected.filter((id) => !shown.includes(id));
  const unknown = shown.filter((id) => !expected.includes(id));
  if (missing.length > 0)
    faults.push(`${missing.length} operations not listed: ${missing.slice(0, 10).join(', ')}`);
  if (unknown.length > 0)
    faults.push(`operations listed that the spec does not have: ${unknown.join(', ')}`);
  if (!/keywork/.test(title))
    faults.push(`the API's title is not shown (got "${title}")`);

  await page.screenshot({ path: shot, timeout: left() });

  // Open one operation: its parameters, body and responses render.
  const op = page.locator('#operations-episodes-createEpisode');
  await op.locator('.opblock-summary').first().click({ timeout: left(), noWaitAfter: true });
  await op.locator('.opblock-body .responses-wrapper').waitFor({ timeout: left() })
    .catch(() => faults.push('opening createEpisode did not show its responses'));

  // Try it out: the page calls the API it describes (GET /healthz).
  const health = page.locator('#operations-service-getHealth');
  await health.locator('.opblock-summary').first().click({ timeout: left(), noWaitAfter: true });
  await health.locator('.try-out__btn').click({ timeout: left(), noWaitAfter: true });
  await health.locator('.execute').click({ timeout: left(), noWaitAfter: true });
  const status = health.locator('.live-responses-table tbody .response-col_status');
  await status.first().waitFor({ timeout: left() })
    .catch(() => faults.push('Try it out on getHealth showed no response'));
  const code = (await status.first().textContent({ timeout: 2000 })
    .catch(() => '')).trim();
  const body = await health.locator('.live-responses-table tbody pre').first()
    .textContent({ timeout: 2000 }).catch(() => '');
  if (!code.startsWith('200') || !/"status":\s*"ok"/.test(body))
    faults.push(`Try it out on getHealth showed ${code} ${body}`);

  // The whole page is tall: only when time is left for it.
  const full = shot.replace(/\.png$/, '-full.png');
  let fullTaken = false;
  if (end - Date.now() > 15000) {
    await page.screenshot({ path: full, fullPage: true, timeout: left() });
    fullTaken = true;
  }
  console.log(`${shown.length} of ${expected.length} operations listed; ` +
    `${requests.length} requests, ${external} beyond ${origin}`);
  console.log(`screenshot: ${shot} (first screen)`);
  console.log(fullTaken ? `screenshot: ${full} (whole page)` :
    `${full}: not taken, too little time left`);
} catch (err) {
  faults.push(`browser: ${err.message}`);
} finally {
  await browser.close();
  clearTimeout(deadline);
}

for (const f of faults)
  console.error(`FAILED - ${f}`);
process.exit(faults.length > 0 ? 1 : 0);
