// Shared helpers for the browser journeys: a real dangjian server with the small demo university in a
// temporary data directory, a headless Debian Chromium driven by playwright-core, and small utilities
// (log in, screenshots, valid ID numbers, the JSON API).
//
// The binary: $DJ_EXE, else $CARGO_TARGET_DIR/debug/dangjian, else ../target/debug/dangjian.
// The browser: $CHROMIUM, else /usr/bin/chromium (playwright's own browser download is never used).

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.join(here, 'artifacts');
export const PASSWORD = 'Demo-Pass-2026!';

export function binaryPath() {
  if (process.env.DJ_EXE) return path.resolve(process.env.DJ_EXE);
  const target = process.env.CARGO_TARGET_DIR ? path.resolve(here, '..', process.env.CARGO_TARGET_DIR) : path.join(here, '..', 'target');
  return path.join(target, 'debug', 'dangjian');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function serverEnv() {
  const env = { ...process.env, DANGJIAN_MFA_REQUIRED: 'false', RUST_LOG: process.env.RUST_LOG ?? 'warn' };
  // Our flags decide where the server listens and keeps its data.
  delete env.DANGJIAN_LISTEN;
  delete env.DANGJIAN_DATA_DIR;
  return env;
}

/**
 * Creates a temporary data directory, fills it with `dangjian demo --scale small`, starts
 * `dangjian serve` on a free loopback port and waits for /healthz.
 * Returns { url, dataDir, stop }.
 */
export async function startServer() {
  const exe = binaryPath();
  if (!existsSync(exe)) throw new Error(`dangjian binary not found at ${exe} (set DJ_EXE or run cargo build --bin dangjian)`);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'dj-e2e-'));
  const env = serverEnv();
  try {
    await promisify(execFile)(exe, ['--data-dir', dataDir, 'demo', '--scale', 'small'], { env, timeout: 60_000 });
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`dangjian demo failed: ${e.message}\n${e.stderr ?? ''}`);
  }

  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(exe, ['--data-dir', dataDir, 'serve', '--listen', `127.0.0.1:${port}`], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    const keep = (b) => { log = (log + b.toString()).slice(-20_000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let exited = null;
    const exitedP = new Promise((r) => child.once('exit', (code, sig) => { exited = { code, sig }; r(); }));

    const deadline = Date.now() + 20_000;
    let healthy = false;
    while (Date.now() < deadline && !exited) {
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) { healthy = true; break; }
      } catch { /* not up yet */ }
      await sleep(100);
    }
    if (healthy) {
      const stop = async () => {
        if (!exited) {
          child.kill('SIGTERM');
          await Promise.race([exitedP, sleep(5000)]);
          if (!exited) { child.kill('SIGKILL'); await exitedP; }
        }
        await rm(dataDir, { recursive: true, force: true });
      };
      return { url, dataDir, stop, log: () => log };
    }
    if (!exited) { child.kill('SIGKILL'); await exitedP; }
    lastError = new Error(`dangjian serve did not become healthy on ${url} (${exited ? `exit ${exited.code ?? exited.sig}` : 'timeout'}):\n${log}`);
  }
  await rm(dataDir, { recursive: true, force: true });
  throw lastError;
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-quic',
];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

export const DESKTOP = { width: 1440, height: 900 };
export const PHONE = { width: 390, height: 844 };

/** A fresh browser context (own cookies) with a page that fails fast. */
export async function newPage(browser, baseURL, viewport = DESKTOP, extra = {}) {
  const context = await browser.newContext({ baseURL, viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', ...extra });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  if (process.env.E2E_WITHOUT_HTMX) {
    // The pages must work without script too: every htmx control is also a plain link or form.
    await context.route('**/assets/htmx.min.js', (route) => route.fulfill({ status: 404, body: '' }));
  }
  const page = await context.newPage();
  // Everything the browser refused under our Content-Security-Policy, and every uncaught script error.
  page.problems = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) page.problems.push(`CSP at ${page.url()} (${m.location()?.url}:${m.location()?.lineNumber}): ${m.text().slice(0, 120)}`); });
  page.on('pageerror', (e) => page.problems.push(`script error: ${e.message}`));
  return page;
}

/** Fails when the page hit a CSP violation or a script error so far. */
export function assertNoProblems(page) {
  if (page.problems.length) throw new Error(`the browser reported:\n${page.problems.join('\n')}`);
}

/** Logs in through the login form and waits for the home page. */
export async function login(page, username, password = PASSWORD) {
  await page.goto('/login');
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login'), { waitUntil: 'load' }),
    page.click('button[type=submit]'),
  ]);
}

/** Saves a screenshot into e2e/artifacts/NAME.png: the whole page, or with { fullPage: false } the screen. */
export async function shot(page, name, { fullPage = true } = {}) {
  await mkdir(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  // caret: 'initial' — hiding the caret makes Playwright leave style="" on every input, which htmx then
  // copies during a swap and our CSP rightly refuses.
  await page.screenshot({ path: file, fullPage, caret: 'initial' });
  return file;
}

/** A valid 18-digit citizen ID number (GB 11643) for 1999-01-01 with sequence `seq` (0..999). */
export function idNumber(seq, birth = '19990101', area = '330106') {
  const body = area + birth + String(seq).padStart(3, '0');
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, ch, i) => s + Number(ch) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

/** The same number with a wrong check character. */
export function badChecksum(id) {
  const good = id.at(-1);
  const wrong = '10X98765432'.split('').find((c) => c !== good);
  return id.slice(0, -1) + wrong;
}

/** Logs in to the JSON API and returns a function calling it with the bearer token. */
export async function api(baseURL, username, password = PASSWORD) {
  const res = await fetch(`${baseURL}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`API login for ${username} answered ${res.status}: ${await res.text()}`);
  const { token } = await res.json();
  return async (method, p, body) => {
    const r = await fetch(`${baseURL}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    let json;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: r.status, json, text };
  };
}

/**
 * Starts a server and a browser for one test file. Use in before()/after():
 *   const env = await setup(); ... await env.teardown();
 */
export async function setup() {
  const server = await startServer();
  let browser;
  try {
    browser = await launchBrowser();
  } catch (e) {
    await server.stop();
    throw e;
  }
  return {
    url: server.url,
    server,
    browser,
    page: (viewport, extra) => newPage(browser, server.url, viewport, extra),
    teardown: async () => {
      await browser.close().catch(() => {});
      await server.stop();
    },
  };
}

/** The visible text of the left navigation's links. */
export async function navLabels(page) {
  return (await page.locator('nav.sidenav a.nav-item').allInnerTexts()).map((s) => s.trim());
}

/** The breadcrumb as a list of link texts. */
export async function crumbs(page) {
  return (await page.locator('nav.crumbs a').allInnerTexts()).map((s) => s.trim());
}

const sleepMs = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `action` (a click, a submit) and waits until the page shows a new <main>: after a full load, or
 * after htmx boosted the navigation and swapped the body, with no htmx request or swap in flight.
 * A navigation whose answer is never shown (for example an error status htmx refuses to swap) times out.
 */
export async function act(page, action, timeout = 10_000) {
  await page.evaluate(() => document.querySelectorAll('main').forEach((m) => m.setAttribute('data-e2e-stale', '')));
  const seen = [];
  const onResponse = (r) => {
    const t = r.request().resourceType();
    if (t === 'document' || t === 'xhr' || t === 'fetch') seen.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}${t === 'document' ? '' : ` (${t})`}`);
  };
  page.on('response', onResponse);
  try {
    await action();
    await waitFresh(page, timeout, seen);
  } finally {
    page.off('response', onResponse);
  }
}

async function waitFresh(page, timeout, seen) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      const fresh = await page.evaluate(() => {
        const m = document.querySelector('main');
        return !!m && !m.hasAttribute('data-e2e-stale') && document.readyState === 'complete'
          && !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling');
      });
      if (fresh) return;
    } catch { /* the document is being replaced */ }
    if (Date.now() > deadline) throw new Error(`the page did not show a new page within ${timeout} ms (still at ${page.url()}; responses: ${seen.join(', ') || 'none'})`);
    await sleepMs(50);
  }
}

/** Clicks `locator`, waits for the new page (see act) and checks that its URL matches `url`. */
export async function clickTo(page, locator, url) {
  await act(page, () => locator.click());
  if (url && !url.test(page.url())) throw new Error(`expected to arrive at ${url}, arrived at ${page.url()}`);
}

/**
 * Clicks a submit button, waits for the POST's response and the new page; returns the response status.
 */
export async function submit(page, button) {
  let status;
  await act(page, async () => {
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      button.click(),
    ]);
    status = res.status();
  });
  return status;
}

/** The text of the <dd> beside the <dt> labelled `label` in a definition list on the page. */
export async function dd(page, label) {
  return (await page.locator(`dl.kv dt:text-is("${label}") + dd`).innerText()).trim();
}

/**
 * A sign-in for a party member of the demo secretary's branch: the demo `member` is an applicant in
 * another branch, so journeys that need the secretary and one of her full members create the account
 * (as the security administrator, through the API). Returns { username, password, personId, name, orgId }.
 */
export async function branchMemberAccount(baseURL, username = 'branch_member') {
  const secretary = await api(baseURL, 'secretary');
  const orgId = (await secretary('GET', '/api/v1/me')).json.grants.find((g) => g.role === 'branch_secretary').org_id;
  const people = (await secretary('GET', '/api/v1/people?per_page=100')).json.items;
  const full = people.filter((p) => p.org_id === orgId && p.stage === 'full' && p.status === 'normal');
  const person = full.find((p) => p.gender === 'female') ?? full[0];
  if (!person) throw new Error(`the demo branch ${orgId} has no full member to sign in as`);
  const password = 'Branch-Member-2026!';
  const security = await api(baseURL, 'security');
  const res = await security('POST', '/api/v1/users', { username, password, display_name: person.name, person_id: person.id, grants: [] });
  if (res.status !== 201) throw new Error(`creating ${username} answered ${res.status}: ${res.text}`);
  return { username, password, personId: person.id, name: person.name, orgId };
}

/** Today's date in Beijing, YYYY-MM-DD (the server's calendar day). */
export function beijingToday() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}
