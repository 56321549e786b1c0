// One round of bench/dashboard_rss.sh: SESSIONS browser sessions against a running `podcd serve`,
// in one Debian Chromium (/usr/bin/chromium) driven by playwright-core (installed in
// tests/browser by scripts/setup.sh), then the browser closed. Every fourth session is USER's, the
// others ADMIN's. A session: a fresh browser context (its own cookies), log in, / (which follows
// GET /events), a stack's page, /deployments (GET /events too), the newest deployment's page,
// /deliveries, /audit, / again, log out. The round's first session also tries a wrong password
// once, and presses "Deploy all changed" and watches that deployment's page (its log streamed
// live) until it ends. Samples podcd-serve's VmRSS every 50 ms while the sessions run.
//
//   node bench/dashboard_rss.mjs URL PID SESSIONS ADMIN:PASSWORD USER:PASSWORD
//
// Prints one line: "sessions N pages P peak_rss_kB R seconds S".
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [base, pid, sessionsArg, adminArg, userArg] = process.argv.slice(2);
const sessions = Number(sessionsArg);
const split = (s) => [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1)];
const admin = split(adminArg);
const user = split(userArg);
const { chromium } = createRequire(path.join(here, '../tests/browser/package.json'))('playwright-core');

const url = (rel) => new URL(rel, base).toString();
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
let peak = rss();
const sampler = setInterval(() => { try { peak = Math.max(peak, rss()); } catch { /* gone */ } }, 50);
let pages = 0;

function expect(ok, what) {
  if (!ok) throw new Error(what);
}
// Opens `rel`; with `events`, also waits until the page's script has GET /events answered (the
// stream's headers), so that the server holds one open stream per such page as a user's tab does.
async function open(page, rel, events = false) {
  const stream = events ? page.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/events')) : null;
  const answer = await page.goto(url(rel));
  ++pages;
  expect(answer && answer.status() < 400, `GET ${rel} answered ${answer?.status()}`);
  if (stream) expect((await stream).status() === 200, `GET /events from ${rel} was not answered 200`);
  return answer;
}
async function login(page, name, password) {
  await page.goto(url('login'));
  await page.locator('input[name="username"]').fill(name);
  await page.locator('input[name="password"]').fill(password);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Log in' }).click()]);
  ++pages;
}

async function session(browser, i) {
  const asAdmin = i % 4 !== 3;
  const [name, password] = asAdmin ? admin : user;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  if (i === 0) {
    await login(page, name, 'not the password');
    expect(new URL(page.url()).pathname.endsWith('/login'), 'a wrong password got in');
  }
  await login(page, name, password);
  expect(!new URL(page.url()).pathname.endsWith('/login'), `${name} could not log in`);
  await open(page, '', true);
  const stack = await page.locator('table.stacks a[href*="/stacks/"]').first().getAttribute('href');
  await open(page, stack);
  if (i === 0 && asAdmin) {
    await open(page, '');
    await Promise.all([page.waitForNavigation(),
      page.getByRole('button', { name: 'Deploy all changed', exact: true }).first().click()]);
    ++pages;
    // On the deployment's page its log streams until the record is final (the page reloads).
    for (let t = 0; t < 300; ++t) {
      const state = (await page.locator('#deployment-state').innerText().catch(() => '')).trim();
      if (state && !['queued', 'running'].includes(state)) break;
      await page.waitForTimeout(200);
    }
  }
  await open(page, 'deployments', true);
  const newest = await page.locator('table.deployments a[href*="/deployments/"]').first().getAttribute('href')
    .catch(() => null);
  if (newest) await open(page, newest);
  await open(page, 'deliveries');
  await open(page, 'audit');
  await open(page, '', true);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Log out', exact: true }).click()]);
  ++pages;
  expect(new URL(page.url()).pathname.endsWith('/login'), 'logging out did not lead to /login');
  await context.close();
}

const started = Date.now();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: [
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync',
  ],
});
try {
  for (let i = 0; i < sessions; ++i) await session(browser, i);
} catch (err) {
  console.error(`dashboard_rss.mjs: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await browser.close().catch(() => {});
  clearInterval(sampler);
}
console.log(`sessions ${sessions} pages ${pages} peak_rss_kB ${peak} seconds ${((Date.now() - started) / 1000).toFixed(1)}`);
