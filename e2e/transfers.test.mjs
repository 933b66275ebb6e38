// A transfer inside the university: the sending branch's secretary starts it from the person's status card
// (校内转接 to another college's branch, with a reason); the receiving branch's secretary (secretary2) finds it
// in 转入本组织 and accepts it; the person is then in the receiving branch. Both sides see the transfer with its
// dates and state. Screenshots at 1440 and 390 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, submit, api, dd, assertNoProblems, PHONE } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

test('secretary sends a person to another branch, secretary2 accepts, both see the history', async () => {
  // The receiving branch: secretary2's. A person of the sending branch: secretary's.
  const s2 = await api(env.url, 'secretary2');
  const s1 = await api(env.url, 'secretary');
  const people = (await s1('GET', '/api/v1/people?limit=50')).json;
  const list = people.items;
  const known = (await s1('GET', '/api/v1/transfers')).json;
  const busy = new Set([...known.incoming, ...known.outgoing].filter((t) => t.state === 'pending').map((t) => t.person.id));
  const person = list.find((p) => ['full', 'probationary'].includes(p.stage) && !busy.has(p.id)) ?? list.find((p) => !busy.has(p.id));
  assert.ok(person, 'the sending branch has people');
  const toOrg = (await s2('GET', '/api/v1/people?limit=1')).json.items[0]?.org_id;
  assert.ok(toOrg, "secretary2's branch");
  assert.notEqual(toOrg, person.org_id, 'another branch');
  const toName = (await s2('GET', `/api/v1/orgs/${toOrg}`)).json.name;

  const page = await env.page();
  await login(page, 'secretary');
  await page.goto(`/transfers/new?person_id=${person.id}`);
  await page.selectOption('#f-kind', 'internal');
  await page.selectOption('#f-to_org_id', String(toOrg));
  await page.fill('#f-reason', '转专业到文学院');
  await shot(page, 'transfer-new-desktop');
  const status = await submit(page, page.locator('main form button[type=submit]').first());
  assert.ok(status === 303 || status === 200, `created: ${status} ${await page.locator('main').innerText()}`);
  assert.match(page.url(), /\/transfers\/\d+\?done=created/, `the transfer page: ${page.url()}`);
  const transferPath = new URL(page.url()).pathname;
  assert.equal(await dd(page, '转入'), toName);
  assert.equal(await dd(page, '原因'), '转专业到文学院');
  const sentState = (await page.locator('main .page-head .pill').innerText()).trim();
  await shot(page, 'transfer-sent-desktop');

  // The receiving side: in 转入本组织, opens it and accepts.
  const recv = await env.page();
  await login(recv, 'secretary2');
  await recv.goto('/transfers');
  const incoming = recv.locator('section.card', { has: recv.locator('h2', { hasText: '转入本组织' }) });
  const line = incoming.locator('a', { hasText: person.name }).first();
  await clickTo(recv, line, /\/transfers\/\d+/);
  assert.equal(new URL(recv.url()).pathname, transferPath);
  await shot(recv, 'transfer-incoming-desktop');
  const accepted = await submit(recv, recv.locator('main form button', { hasText: '同意接收' }));
  assert.ok(accepted === 303 || accepted === 200, `accepted: ${accepted}`);
  const doneState = (await recv.locator('main .page-head .pill').innerText()).trim();
  assert.notEqual(doneState, sentState, 'the state moved on');
  assert.match(doneState, /接收|办结|完成/);
  assert.match(await dd(recv, '办结日期'), /^\d{4}-\d{2}-\d{2}$/);
  assertNoProblems(recv);

  // The person is now in the receiving branch.
  const now = (await s2('GET', `/api/v1/people/${person.id}`)).json;
  assert.equal(now.org_id, toOrg, 'the person moved to the receiving branch');
  await recv.goto(`/people/${person.id}`);
  assert.match(await recv.locator('main').innerText(), new RegExp(toName));

  // Both sides see the transfer's history: the sender too, on a phone.
  const phone = await env.page(PHONE);
  await login(phone, 'secretary');
  await phone.goto(transferPath);
  assert.equal((await phone.locator('main .page-head .pill').innerText()).trim(), doneState);
  assert.equal(await dd(phone, '原因'), '转专业到文学院');
  assert.match(await dd(phone, '发起日期'), /^\d{4}-\d{2}-\d{2}$/);
  assert.match(await dd(phone, '办结日期'), /^\d{4}-\d{2}-\d{2}$/);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the transfer fits a phone (overflow ${overflow}px)`);
  await shot(phone, 'transfer-sender-phone');
  await phone.goto('/transfers');
  const outgoing = phone.locator('section.card', { has: phone.locator('h2', { hasText: '从本组织转出' }) });
  assert.ok(await outgoing.getByText(person.name).count(), 'listed among the sender\'s outgoing transfers');
  await shot(phone, 'transfers-list-phone');
  assertNoProblems(page);
  assertNoProblems(phone);
});
