// A branch secretary sees her own branch and nothing else: a person of another college's branch is
// "not found" (404, not "forbidden", so ids reveal nothing), and her roster lists her branch only.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, api } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

test("a secretary opening a person of another college's branch gets the 404 page", async () => {
  // Someone from secretary2's branch, found through the JSON API with secretary2's own token.
  const asSecretary2 = await api(env.url, 'secretary2');
  const theirs = await asSecretary2('GET', '/api/v1/people?per_page=50');
  assert.equal(theirs.status, 200, theirs.text);
  assert.ok(theirs.json.items.length > 0, 'secretary2 has people');
  const stranger = theirs.json.items[0];
  const otherBranch = stranger.org_name;

  // Cross-check with the API as the secretary: the stranger is not hers, and the API agrees.
  const asSecretary = await api(env.url, 'secretary');
  const mine = await asSecretary('GET', '/api/v1/people?per_page=100');
  assert.equal(mine.status, 200, mine.text);
  assert.ok(!mine.json.items.some((p) => p.id === stranger.id), 'not in her list');
  assert.equal((await asSecretary('GET', `/api/v1/people/${stranger.id}`)).status, 404);

  const page = await env.page();
  await login(page, 'secretary');
  const myBranch = (await page.locator('main section.card h2').first().innerText()).trim();
  assert.notEqual(myBranch, otherBranch);

  for (const path of [`/people/${stranger.id}`, `/people/${stranger.id}/edit`, `/orgs/${stranger.org_id}`, `/people?org_id=${stranger.org_id}`]) {
    const res = await page.goto(path);
    assert.equal(res.status(), 404, `${path} answered ${res.status()}`);
    assert.equal(await page.locator('.error-code').innerText(), '404');
    assert.equal((await page.locator('main h1').innerText()).trim(), '未找到');
    assert.match(await page.locator('main').innerText(), /请求编号/, 'the page gives the request id for the IT centre');
    const html = await page.content();
    assert.ok(!html.includes(stranger.name), `${path} does not leak the name`);
    assert.ok(!html.includes(otherBranch), `${path} does not leak the branch`);
  }
  await page.goto(`/people/${stranger.id}`);
  await shot(page, 'scope-404');

  // An edit attempt by form post (with this session's anti-forgery token, as a page of hers would send
  // it) is refused the same way and changes nothing; without the token it does not even reach the check.
  await page.goto('/');
  const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  const post = await page.request.post(`/people/${stranger.id}/edit`, {
    form: { csrf, name: '被改名', version: '1' },
    headers: { origin: env.url },
  });
  assert.equal(post.status(), 404);
  const forged = await page.request.post(`/people/${stranger.id}/edit`, {
    form: { name: '被改名', version: '1' },
    headers: { origin: env.url },
  });
  assert.equal(forged.status(), 403);
  const after = await asSecretary2('GET', `/api/v1/people/${stranger.id}`);
  assert.equal(after.json.name, stranger.name, 'the person is unchanged');
});

test("the secretary's roster shows only her branch", async () => {
  const page = await env.page();
  await login(page, 'secretary');
  const card = page.locator('main section.card').first();
  const myBranch = (await card.locator('h2').innerText()).trim();
  const total = Number(await card.locator('.stat', { hasText: '总人数' }).locator('.stat-n').innerText());
  assert.ok(total > 0);

  await clickTo(page, page.locator('nav.sidenav').getByRole('link', { name: '党员', exact: true }), /\/people$/);
  assert.match(await page.locator('.page-head p').innerText(), new RegExp(`共 ${total} 人`));
  const orgs = await page.locator('td[data-label="所在党组织"]').allInnerTexts();
  assert.equal(orgs.length, Math.min(total, 20), 'one page of her people');
  assert.deepEqual([...new Set(orgs)], [myBranch]);
  // Every ID number and phone in the roster is masked.
  for (const id of await page.locator('td[data-label="身份证号"]').allInnerTexts()) assert.match(id, /\*{4}/);
  for (const ph of await page.locator('td[data-label="联系电话"]').allInnerTexts()) assert.ok(ph === '—' || ph.includes('****'), ph);

  // Filtering by stage keeps to her branch too.
  await page.selectOption('#f-stage', 'applicant');
  await clickTo(page, page.locator('form.filters button[type=submit]'), /stage=applicant/);
  const stages = await page.locator('td[data-label="发展阶段"]').allInnerTexts();
  assert.ok(stages.length > 0 && stages.every((s) => s.trim() === '入党申请人'), `stages: ${stages}`);
  assert.deepEqual([...new Set(await page.locator('td[data-label="所在党组织"]').allInnerTexts())], [myBranch]);
  await page.goto('/people');
  await shot(page, 'scope-secretary-roster');
});
