// Cross-site request forgery in a real browser (security.md AT-19): a page on another site that submits a
// form to dangjian is refused and the member stays signed in; the pages' own requests — forms boosted by
// htmx, the learning heartbeat (a script calling the API on the session cookie) — carry the session's
// anti-forgery token and pass.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { setup, login, shot, api, assertNoProblems } from './server.mjs';

let env;
let evil;
before(async () => {
  env = await setup();
  // Another site, as an attacker would host it: its page submits a form to dangjian at once.
  evil = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><form method="post" action="${env.url}/account/password">
      <input name="old_password" value="x"><input name="new_password" value="Forged-Pass-2026!">
      <input name="confirm" value="Forged-Pass-2026!"></form><script>document.forms[0].submit()</script>`);
  });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
});
after(async () => {
  evil?.close();
  await env?.teardown();
});

test("another site's form is refused and the member stays signed in", async () => {
  const page = await env.page();
  await login(page, 'member');
  const evilUrl = `http://localhost:${evil.address().port}/`;
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/account/password') && r.request().method() === 'POST'),
    page.goto(evilUrl),
  ]);
  assert.equal(refused.status(), 403);
  await page.waitForURL(`${env.url}/account/password`);
  assert.equal((await page.locator('main h1').innerText()).trim(), '提交已被拒绝');
  assert.match(await page.locator('main').innerText(), /请求编号/);
  await shot(page, 'csrf-refused');
  // Still signed in, password unchanged: the next page is hers, not the login page.
  await page.goto('/');
  assert.ok(!new URL(page.url()).pathname.startsWith('/login'), page.url());
});

test('the reading page heartbeat carries the token and counts', async () => {
  // Org staff publish a material to the whole university (through the API, with a bearer token).
  const asStaff = await api(env.url, 'staff');
  const made = await asStaff('POST', '/api/v1/learning/materials', { title: '党费交纳须知', body: '按时足额交纳党费是党员的义务。', kind: 'article' });
  assert.equal(made.status, 201, JSON.stringify(made.json));
  const page = await env.page();
  await login(page, 'member');
  await page.goto(`/learning/${made.json.id}`);
  const beat = page.waitForResponse((r) => /\/api\/v1\/learning\/materials\/\d+\/progress$/.test(r.url()), { timeout: 8_000 });
  await page.mouse.move(200, 300);
  await page.mouse.wheel(0, 200);
  const res = await beat;
  assert.equal(res.status(), 200, await res.text());
  assert.ok(res.request().headers()['x-csrf-token']?.length === 128, 'the header carries the page token');
  assertNoProblems(page);
});
