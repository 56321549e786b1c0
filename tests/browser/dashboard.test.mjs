// The dashboard in a real browser: Debian's Chromium (/usr/bin/chromium) driven by playwright-core,
// against a real `podcd serve` with a users file, a file:// environment repository with two stacks
// and the real Podman service of scripts/testenv.sh.
//
//   node tests/browser/dashboard.test.mjs      (CTest: browser_dashboard; env from testenv's env.sh)
//
// Environment: PODCD_BINARY (the podcd to run), PODCD_TEST_PODMAN_SOCKET and PODCD_TEST_IMAGE (from
// scripts/testenv.sh), PODCD_BROWSER_ARTIFACTS (screenshots and, on failure, the page's HTML and
// the daemon's log; default ./artifacts/browser), PODCD_BROWSER_DOCS_IMG (a directory the
// screenshots for the docs are copied to, e.g. docs/img; unset: none), PODCD_HTTP_BASE_PATH (the
// dashboard's base path, default /), CHROMIUM (default /usr/bin/chromium), CI (true: a missing
// service or browser fails instead of skipping).
// Exit codes: 0 passed, 1 failed, 77 skipped (CTest's SKIP_RETURN_CODE).
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const started = Date.now();
const SKIP = 77;
const underCi = !['', '0', 'false'].includes(process.env.CI ?? '');

const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);

// A missing service or browser: a skip on a developer's machine, a failure under CI.
function missing(why) {
  if (underCi) {
    console.error(`FAILED: not skipped under CI=true: ${why}`);
    process.exit(1);
  }
  console.log(`SKIPPED: ${why}`);
  process.exit(SKIP);
}

const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const podcd = process.env.PODCD_BINARY;
const socket = process.env.PODCD_TEST_PODMAN_SOCKET;
const image = process.env.PODCD_TEST_IMAGE ?? 'localhost/bb:1';
const artifacts = path.resolve(process.env.PODCD_BROWSER_ARTIFACTS ?? 'artifacts/browser');
const docsImg = process.env.PODCD_BROWSER_DOCS_IMG ? path.resolve(process.env.PODCD_BROWSER_DOCS_IMG) : '';
const basePath = (process.env.PODCD_HTTP_BASE_PATH ?? '/').replace(/\/*$/, '/');

if (!podcd || !fs.existsSync(podcd)) {
  console.error(`FAILED: PODCD_BINARY (${podcd ?? 'unset'}) is not a file`);
  process.exit(1);
}
if (!socket) missing('no Podman test service: PODCD_TEST_PODMAN_SOCKET is unset (run scripts/testenv.sh start DIR and source DIR/env.sh)');
if (!fs.existsSync(chromiumPath)) missing(`no browser at ${chromiumPath} (run scripts/setup.sh: Debian's chromium)`);
let chromium;
try {
  chromium = createRequire(path.join(here, 'package.json'))('playwright-core').chromium;
} catch {
  missing(`playwright-core is not installed in ${here} (run scripts/setup.sh: npm ci there)`);
}

// ---- the world: a git remote with two stacks, users, config, state -----------------------------
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podcd-browser-'));
const remote = path.join(dir, 'remote.git');
const dev = path.join(dir, 'dev');
const stacks = ['blog', 'shop'];
const changed = 'blog';
const users = { admin: ['ADMIN', 'alice', 'correct horse battery staple'], user: ['USER', 'bob', 'tr0ub4dor&3'] };

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}
const git = (...args) =>
  sh('git', ['-C', dev, '-c', 'user.name=podcd-browser-test', '-c', 'user.email=test@podcd.invalid', ...args]);

function compose(stack, greeting) {
  const command = stack === 'blog' ? '["httpd", "-f", "-p", "8080", "-h", "/www"]' : '["sleep", "3600"]';
  return `services:\n  app:\n    image: ${image}\n    command: ${command}\n    init: true\n` +
    `    environment:\n      GREETING: ${greeting}\n`;
}
function commit(files, message) {
  for (const [rel, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dev, rel)), { recursive: true });
    fs.writeFileSync(path.join(dev, rel), body);
  }
  git('add', '-A');
  git('commit', '-q', '-m', message);
  git('push', '-q', 'origin', 'main');
  return git('rev-parse', '--short', 'HEAD').trim();
}

// The GREETING of each running container of `stack` (podman, by podcd's stack label).
function greetings(stack) {
  const out = sh('podman', ['ps', '-q', '--filter', `label=io.podcd.stack=${stack}`]).trim();
  if (!out) return [];
  return out.split(/\s+/).map((id) =>
    sh('podman', ['inspect', '--format', '{{range .Config.Env}}{{println .}}{{end}}', id])
      .split('\n').find((l) => l.startsWith('GREETING='))?.slice('GREETING='.length) ?? '');
}

// Removes the containers and networks of this test's stacks from the env's Podman (by label).
function removeStacks() {
  for (const stack of stacks) {
    const filter = `label=io.podcd.stack=${stack}`;
    for (let pass = 0; pass < 2; ++pass) {
      const ids = spawnSync('podman', ['ps', '-aq', '--filter', filter], { encoding: 'utf8' }).stdout?.trim();
      if (ids) spawnSync('podman', ['rm', '-f', '-t', '0', ...ids.split(/\s+/)]);
    }
    const nets = spawnSync('podman', ['network', 'ls', '-q', '--filter', filter], { encoding: 'utf8' }).stdout?.trim();
    if (nets) spawnSync('podman', ['network', 'rm', '-f', ...nets.split(/\s+/)]);
  }
}

let daemon = null;
let daemonLog = path.join(dir, 'serve.log');
let browser = null;
let page = null;
let stepName = 'setup';

async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  if (daemon && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    const ended = await Promise.race([
      new Promise((r) => daemon.once('exit', () => r(true))),
      new Promise((r) => setTimeout(() => r(false), 10000)),
    ]);
    if (!ended) daemon.kill('SIGKILL');
  }
  removeStacks();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function fail(err) {
  console.error(`FAILED at step "${stepName}": ${err?.stack ?? err}`);
  fs.mkdirSync(artifacts, { recursive: true });
  const slug = stepName.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  if (page) {
    await page.screenshot({ path: path.join(artifacts, `failure-${slug}.png`), fullPage: true }).catch(() => {});
    const html = await page.content().catch(() => '');
    fs.writeFileSync(path.join(artifacts, `failure-${slug}.html`), html);
    console.error(`  page ${page.url()}; screenshot and HTML in ${artifacts}/failure-${slug}.{png,html}`);
  }
  if (fs.existsSync(daemonLog)) {
    fs.copyFileSync(daemonLog, path.join(artifacts, 'serve.log'));
    const tail = fs.readFileSync(daemonLog, 'utf8').split('\n').slice(-40).join('\n');
    console.error(`  daemon log (last lines; all in ${artifacts}/serve.log):\n${tail}`);
  }
  await cleanup();
  process.exit(1);
}

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
  log(`  ok: ${what}`);
}

function step(name) {
  stepName = name;
  log(`step: ${name}`);
}

let shots = 0;
async function screenshot(name, forDocs = false) {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, `${String(++shots).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  log(`  screenshot ${file}`);
  if (forDocs && docsImg) {
    fs.mkdirSync(docsImg, { recursive: true });
    fs.copyFileSync(file, path.join(docsImg, `dashboard-${name}.png`));
  }
}

const ACTION_LABELS = ['Deploy all changed', 'Sync now (fetch and plan)', 'Redeploy and update', 'Force recreate',
  'Suspend', 'Resume', 'Pin', 'Unpin'];

try {
  removeStacks();  // leftovers of an earlier run that was killed

  step('an environment repository (file://) with two stacks, a users file, a configuration');
  sh('git', ['init', '-q', '--bare', '-b', 'main', remote]);
  sh('git', ['init', '-q', '-b', 'main', dev]);
  git('remote', 'add', 'origin', remote);
  const firstCommit = commit(Object.fromEntries(stacks.map((s) => [`services/${s}/compose.yml`, compose(s, 'hello-1')])),
    'two stacks');
  const usersFile = path.join(dir, 'users');
  let lines = '# the browser test\'s users\n';
  for (const [role, name, password] of Object.values(users)) {
    lines += sh(podcd, ['passwd', '--user', name, '--role', role], { input: `${password}\n` });
  }
  fs.writeFileSync(usersFile, lines, { mode: 0o600 });
  const config = path.join(dir, 'podcd.yml');
  fs.writeFileSync(config, [
    'listen: 127.0.0.1:0',
    'webhook:\n  secret: a-browser-test-secret-of-some-length',
    `repo:\n  url: file://${remote}\n  branch: main`,
    `podman:\n  socket: ${socket}`,
    `state_dir: ${path.join(dir, 'state')}`,
    'poll:\n  interval: 0',
    'health:\n  settle: 1s\n  timeout: 30s',
    `auth:\n  users_file: ${usersFile}`,
    '',
  ].join('\n'));
  log(`  commit ${firstCommit}, users ${Object.values(users).map((u) => `${u[0]}:${u[1]}`).join(', ')}, ${dir}`);

  step('deploy both stacks once (podcd deploy --all-changed), so that a push later changes a running stack');
  sh(podcd, ['deploy', '--all-changed', '--config', config]);
  for (const s of stacks) check(greetings(s).join() === 'hello-1', `${s} runs one container with GREETING=hello-1`);

  step('start podcd serve on a loopback port');
  daemon = spawn(podcd, ['--config', config, 'serve'], { stdio: ['ignore', fs.openSync(daemonLog, 'a'), fs.openSync(daemonLog, 'a')] });
  let port = 0;
  for (let i = 0; i < 300 && !port && daemon.exitCode === null; ++i) {
    const m = /listening address=127\.0\.0\.1:(\d+)/.exec(fs.readFileSync(daemonLog, 'utf8'));
    if (m) port = Number(m[1]);
    else await new Promise((r) => setTimeout(r, 50));
  }
  check(port > 0, `podcd serve listens (${daemonLog})`);
  const base = `http://127.0.0.1:${port}${basePath}`;
  const url = (rel) => new URL(rel, base).toString();
  const pathOf = (u) => new URL(u).pathname;

  const probe = await fetch(url('login'), { headers: { Accept: 'text/html' } });
  check(probe.status === 200, `GET ${url('login')} answers ${probe.status}`);

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync',
    ],
  });
  log(`  chromium ${browser.version()}`);
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await context.newPage();
    p.setDefaultTimeout(15000);
    return p;
  };
  const onLogin = () => pathOf(page.url()) === `${basePath}login`;
  async function login(name, password) {
    await page.goto(url('login'));
    await page.locator('input[name="username"]').fill(name);
    await page.locator('input[name="password"]').fill(password);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Log in' }).click()]);
  }
  const bodyText = () => page.locator('body').innerText();
  // Clicks the button named `label` on this page, or on / when this page has none; waits for
  // the page the form's answer leads to.
  async function press(label) {
    let button = page.getByRole('button', { name: label, exact: true });
    if ((await button.count()) === 0) {
      log(`  no "${label}" on ${pathOf(page.url())}: pressing it on /`);
      await page.goto(url(''));
      button = page.getByRole('button', { name: label, exact: true });
    }
    const [answer] = await Promise.all([page.waitForNavigation(), button.first().click()]);
    check(answer && answer.status() < 400,
      `pressing "${label}" leads to ${pathOf(page.url())}, answered ${answer?.status()}`);
  }
  const deploymentPath = new RegExp(`^${basePath}deployments/([^/?#]+)$`);
  // Waits on a deployment's page until #deployment-state holds a final state; returns it and
  // how the #log grew.
  async function watchDeployment(timeoutMs) {
    const sizes = [];
    const until = Date.now() + timeoutMs;
    let state = '';
    let first = '';
    for (;;) {
      state = (await page.locator('#deployment-state').innerText()).trim();
      first ||= state;
      const size = (await page.locator('#log').innerText()).length;
      if (sizes.at(-1) !== size) {
        sizes.push(size);
        log(`    state ${state}, log ${size} characters`);
      }
      if (!['', 'queued', 'running'].includes(state) || Date.now() > until) break;
      await page.waitForTimeout(200);
    }
    return { state, sizes, first };
  }
  // The newest deployment's id from the JSON API, in this page's session.
  async function newestDeployment() {
    const r = await page.request.get(url('deployments?limit=1'), { headers: { Accept: 'application/json' } });
    const body = await r.json();
    const list = Array.isArray(body) ? body : body.deployments ?? [];
    return list[0]?.id ?? '';
  }

  page = await newPage();

  step('a wrong password stays out');
  await page.goto(url(''));
  check(onLogin(), `/ without a session leads to the login page (${pathOf(page.url())})`);
  await screenshot('login', true);
  const plainLogin = new Set((await bodyText()).split('\n').map((l) => l.trim()));
  await login(users.admin[1], 'not the password');
  check(onLogin(), `after a wrong password the browser is still at /login (${pathOf(page.url())})`);
  check(await page.locator('input[name="password"]').isVisible(), 'the login form is shown again');
  // A line the plain login page does not have, saying that the login failed.
  const message = (await bodyText()).split('\n').map((l) => l.trim())
    .find((l) => !plainLogin.has(l) && /invalid|wrong|incorrect|fail|denied|unknown|not/i.test(l));
  check(message !== undefined, `the page says the login failed: "${message}"`);
  await screenshot('login-refused');
  await page.goto(url(''));
  check(onLogin(), 'and / still leads to the login page');

  step('ADMIN logs in and sees both stacks');
  await login(users.admin[1], users.admin[2]);
  check(!onLogin(), `ADMIN is in (${pathOf(page.url())})`);
  if (pathOf(page.url()) !== basePath) await page.goto(url(''));
  const overview = await bodyText();
  for (const s of stacks) check(overview.includes(s), `/ lists stack ${s}`);
  check(await page.getByRole('button', { name: 'Deploy all changed', exact: true }).count() > 0,
    'ADMIN has a "Deploy all changed" button');
  await screenshot('overview-in-sync');
  await page.goto(url(`stacks/${changed}`));
  check(!/environment/i.test(await bodyText()), `before the push, ${changed}'s page names no environment change`);

  step(`push a commit changing ${changed}'s environment, press "Sync now (fetch and plan)"`);
  // With a key podcd accepts and ignores (`develop`): the stack page names it under the plan.
  const watched = `${compose(changed, 'hello-2')}    develop: {watch: [{action: sync, path: ./src, target: /src}]}\n`;
  const pushed = commit({ [`services/${changed}/compose.yml`]: watched }, 'blog: greet anew');
  log(`  pushed ${pushed}`);
  const beforeSync = await newestDeployment();
  await press('Sync now (fetch and plan)');
  if (deploymentPath.test(pathOf(page.url()))) {
    const { state } = await watchDeployment(60000);
    log(`  the sync's page ends ${state}`);
  }
  await screenshot('after-sync');

  step(`open ${changed}'s page and see the plan's reason naming the changed field`);
  await page.goto(url(''));
  const link = page.getByRole('link', { name: changed, exact: true });
  if ((await link.count()) > 0) {
    await Promise.all([page.waitForNavigation(), link.first().click()]);
  } else {
    log(`  no link named ${changed} on /: opening stacks/${changed}`);
    await page.goto(url(`stacks/${changed}`));
  }
  check(pathOf(page.url()) === `${basePath}stacks/${changed}`, `at ${pathOf(page.url())}`);
  // The field, as the plan's table or its reason line shows it, e.g. "environment.GREETING changed".
  const fieldLine = (text) => text.split('\n').find((l) => /environment/i.test(l) && l.includes('GREETING'));
  let stackText = '';
  for (let i = 0; i < 40 && !fieldLine(stackText); ++i) {
    if (i > 0) {
      await page.waitForTimeout(500);
      await page.reload();
    }
    stackText = await bodyText();
  }
  check(fieldLine(stackText) !== undefined, `the plan names the changed field: "${fieldLine(stackText)?.trim()}"`);
  check(stackText.includes('services.app.develop: ignored'), 'the plan notes the ignored develop key');
  await screenshot('stack-plan', true);

  // Two more tabs of this session, opened before the deployment exists: /deployments and /
  // follow GET /events, and must show it come and change state without a reload.
  const livePage = async (where) => {
    const p = await page.context().newPage();
    p.setDefaultTimeout(15000);
    await p.goto(url(where));
    await p.evaluate(() => {
      window.podcdNotReloaded = true;
      window.podcdSeen = [];
      const rows = document.querySelector('table.deployments tbody, table.stacks tbody');
      new MutationObserver(() => rows.querySelectorAll('tr[data-state]').forEach((tr) => {
        const seen = `${tr.querySelector('a')?.getAttribute('href')} ${tr.getAttribute('data-state')}`;
        if (!window.podcdSeen.includes(seen)) window.podcdSeen.push(seen);
      })).observe(rows, { childList: true, subtree: true, attributes: true });
    });
    return p;
  };
  const liveList = await livePage('deployments');
  const liveFront = await livePage('');

  step('press "Deploy all changed" and watch the log until it ends');
  await press('Deploy all changed');
  if (!deploymentPath.test(pathOf(page.url()))) {
    const id = await newestDeployment();
    check(id && id !== beforeSync, `a new deployment was queued (${id})`);
    log(`  landed on ${pathOf(page.url())}: opening deployments/${id}`);
    await page.goto(url(`deployments/${id}`));
  }
  check(deploymentPath.test(pathOf(page.url())), `on the deployment's page ${pathOf(page.url())}`);
  const deployedId = pathOf(page.url()).match(deploymentPath)[1];
  const { state, sizes, first } = await watchDeployment(90000);
  const finalLog = await page.locator('#log').innerText();
  check(state === 'succeeded', `#deployment-state reads "${state}"`);
  check(finalLog.trim().length > 0, `#log holds the deployment's log (${finalLog.split('\n').length} lines)`);
  check(finalLog.includes(changed), `the log names stack ${changed}`);
  // The deployment takes over a second (health.settle: 1s): the page opened while it ran, and
  // its script must have followed it without a reload.
  check(['queued', 'running'].includes(first), `the page first showed the deployment ${first}`);
  check(sizes.length >= 2, `the log filled while watched: ${sizes.join(' -> ')} characters`);
  check(greetings(changed).join() === 'hello-2', `${changed}'s container now has GREETING=hello-2 (podman inspect)`);
  await screenshot('deployment', true);

  step('/deployments and / showed the deployment live, from GET /events, without a reload');
  const row = liveList.locator(`table.deployments tr[data-state="succeeded"] a[href$="/deployments/${deployedId}"]`);
  await row.first().waitFor({ timeout: 15000 }).catch(() => {});
  check(await row.count() === 1, `/deployments has a row for ${deployedId} that reads succeeded`);
  const seen = (await liveList.evaluate(() => window.podcdSeen)).filter((s) => s.includes(deployedId))
    .map((s) => s.split(' ')[1]);
  check(seen.length >= 2 && seen.at(-1) === 'succeeded' && ['queued', 'running'].includes(seen[0]),
    `its row changed state in place: ${seen.join(' -> ')}`);
  check(await liveList.evaluate(() => window.podcdNotReloaded === true), '/deployments was not reloaded');
  const stackCell = liveFront.locator(`table.stacks a[href$="/deployments/${deployedId}"]`);
  check(await stackCell.count() > 0, `/ links ${changed}'s last deployment to ${deployedId}`);
  check(await liveFront.evaluate(() => window.podcdNotReloaded === true), '/ was not reloaded');
  const mainPage = page;
  page = liveList;
  await screenshot('deployments-live', true);
  page = liveFront;
  await screenshot('overview-live', true);
  page = mainPage;
  await liveList.close();
  await liveFront.close();
  await page.goto(url(''));
  await screenshot('overview', true);

  step('log out');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Log out', exact: true }).click()]);
  check(onLogin(), `back at the login page (${pathOf(page.url())})`);
  await page.goto(url(''));
  check(onLogin(), 'and / leads to the login page again: the session is gone');

  step('USER logs in, sees the stacks and no action');
  page = await newPage();
  await login(users.user[1], users.user[2]);
  check(!onLogin(), `USER is in (${pathOf(page.url())})`);
  const deploymentsBefore = await newestDeployment();
  for (const where of ['', `stacks/${changed}`, 'deployments']) {
    const answer = await page.goto(url(where));
    check(answer.status() === 200, `USER sees ${pathOf(page.url())} (answered ${answer.status()})`);
    const text = await bodyText();
    if (where === '') for (const s of stacks) check(text.includes(s), `USER's / lists stack ${s}`);
    for (const label of ACTION_LABELS) {
      const n = await page.getByRole('button', { name: label, exact: true }).count();
      check(n === 0, `no "${label}" button on ${pathOf(page.url())}`);
    }
    if (where === '') await screenshot('user-overview', true);
    if (where === `stacks/${changed}`) await screenshot('user-stack');
  }

  step('USER\'s hand-made action requests are answered 403');
  await page.goto(url(''));
  const csrf = await page.locator('input[name="csrf"]').first().getAttribute('value', { timeout: 2000 }).catch(() => null);
  log(`  the page's csrf: ${csrf ? 'found (the logout form)' : 'none on the page'}`);
  const answers = await page.evaluate(async ({ target, csrf }) => {
    const post = async (init) => (await fetch(target, { method: 'POST', redirect: 'manual', credentials: 'same-origin', ...init })).status;
    const form = (fields) => ({ headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });
    return {
      withCsrf: csrf ? await post(form({ csrf })) : null,
      withoutCsrf: await post(form({})),
      json: await post({ headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: '{}' }),
    };
  }, { target: url('actions/deploy-all-changed'), csrf });
  if (csrf) check(answers.withCsrf === 403, `POST actions/deploy-all-changed with the page's csrf: ${answers.withCsrf}`);
  check(answers.withoutCsrf === 403, `POST actions/deploy-all-changed without csrf: ${answers.withoutCsrf}`);
  check(answers.json === 403, `POST actions/deploy-all-changed as JSON: ${answers.json}`);
  check((await newestDeployment()) === deploymentsBefore, 'and no deployment was queued');

  // The issue asks for idle RSS under 10 MB after browser sessions: printed, not asserted (a
  // sanitizer build is larger; bench/ holds the figures). `podcd serve` execs podcd-serve.
  await new Promise((r) => setTimeout(r, 1000));
  const rss = fs.readFileSync(`/proc/${daemon.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  log(`podcd-serve resident memory after the browser sessions: ${rss ? rss[1] + ' kB' : 'unknown'}`);
  log(`PASSED in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${artifacts}`);
  await cleanup();
  process.exit(0);
} catch (err) {
  await fail(err);
}
