// 发展党员 (issue 3 item 2): a branch secretary moves an applicant to activist. A decision dated before the
// application is refused with the reason and the article shown in Chinese, and nothing changes; the correct
// date is accepted, the person becomes an activist and the to-do list shows her next step. Screenshots on a
// desktop and a 390 px phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, submit, api, idNumber, assertNoProblems, PHONE } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

test('an applicant becomes an activist: a too-early date is refused with the reason, a correct one accepted', async () => {
  const sec = await api(env.url, 'secretary');
  const people = await sec('GET', '/api/v1/people');
  assert.equal(people.status, 200, people.text);
  const branch = people.json.items[0].org_id;
  const full = await sec('GET', `/api/v1/people?org_id=${branch}&stage=full`);
  const members = full.json.items.slice(0, 2).map((p) => p.id);
  assert.ok(members.length >= 1, 'one or two formal members to be the cultivation contacts (DEV-04)');
  const created = await sec('POST', '/api/v1/people', {
    name: '欧阳发展', gender: 'female', birth_date: '2001-05-01', id_number: idNumber(417, '20010501'),
    org_id: branch, stage: 'applicant', category: 'student',
  });
  assert.equal(created.status, 201, created.text);
  const id = created.json.id;
  for (const [step, done_on] of [['application', '2025-03-10'], ['talk', '2025-03-20']]) {
    const r = await sec('POST', `/api/v1/people/${id}/development/steps`, { step, done_on });
    assert.equal(r.status, 200, r.text);
  }

  const page = await env.page();
  await login(page, 'secretary');
  await page.goto(`/people/${id}`);
  await page.locator('main a.button', { hasText: '发展进程' }).click();
  await page.waitForURL(new RegExp(`/people/${id}/development$`));
  assert.match(await page.locator('main h1').innerText(), /欧阳发展/);

  // Too early: the decision is dated before the application.
  await page.selectOption('#dv-step', 'activist');
  await page.fill('#dv-on', '2025-03-01');
  await page.fill('#dv-contacts', members.join(', '));
  let status = await submit(page, page.locator('#record button[type=submit]'));
  assert.equal(status, 422);
  const reason = await page.locator('#refused').innerText();
  assert.match(reason, /早于/, reason);
  assert.match(reason, /《中国共产党发展党员工作细则》/, reason);
  assert.equal(await page.inputValue('#dv-on'), '2025-03-01', 'what was typed is kept');
  const still = await sec('GET', `/api/v1/people/${id}`);
  assert.equal(still.json.stage, 'applicant', 'nothing changed');
  await shot(page, 'development-refused-desktop');

  // The correct date.
  await page.fill('#dv-on', '2025-04-15');
  status = await submit(page, page.locator('#record button[type=submit]'));
  assert.equal(status, 303, 'accepted: back to the timeline');
  assert.match(page.url(), /done=1/);
  assert.match(await page.locator('main .page-head p').innerText(), /入党积极分子/);
  const now = await sec('GET', `/api/v1/people/${id}`);
  assert.equal(now.json.stage, 'activist');
  assert.equal(now.json.activist_on, '2025-04-15');
  await shot(page, 'development-accepted-desktop');
  assertNoProblems(page);

  // The to-do list, on a phone.
  const phone = await env.page(PHONE);
  await login(phone, 'secretary');
  await phone.goto('/development');
  const row = phone.locator('main table tr', { hasText: '欧阳发展' });
  assert.equal(await row.count(), 1);
  assert.match(await row.innerText(), /培养教育考察|确定发展对象/);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling on a phone (${width}px)`);
  await shot(phone, 'development-todo-phone');
  await phone.goto(`/people/${id}/development`);
  const w2 = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w2 <= 390, `the timeline fits a phone (${w2}px)`);
  await shot(phone, 'development-person-phone');
});
