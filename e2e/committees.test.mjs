// 委员会与换届: a secretary opens her branch's committee from the organization page, records an election
// (votes per candidate, the secretary's post) and sees the new term with its members; the same page on a
// 390 px phone does not scroll sideways. Screenshots in e2e/artifacts/committee-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, api, assertNoProblems, PHONE } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

/** Today in Beijing, YYYY-MM-DD. */
function today() {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

async function noSidewaysScroll(page) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `the page is ${scroll}px wide in a ${client}px screen`);
}

test('a secretary records an election and sees the new term', async () => {
  const asSecretary = await api(env.url, 'secretary');
  const me = (await asSecretary('GET', '/api/v1/me')).json;
  const branch = me.grants[0].org_id;
  const before = (await asSecretary('GET', `/api/v1/orgs/${branch}/committee`)).json;
  assert.ok(before.current, 'the demo branch has a current term');
  const number = before.current.number;

  const page = await env.page();
  await login(page, 'secretary');
  await page.goto(`/orgs/${branch}`);
  await clickTo(page, page.locator('a', { hasText: '委员会与换届' }), new RegExp(`/orgs/${branch}/committee$`));
  assert.match(await page.locator('main h2').first().innerText(), new RegExp(`第${number}届`));
  await shot(page, 'committee-before');

  // Everyone on the roster is entitled and present; the first `seats` get every vote.
  const rows = page.locator('form[action$="/committee/election"] tbody tr');
  const entitled = await rows.count();
  assert.ok(entitled >= 1, 'the branch has members');
  const seats = Math.min(before.rules.committee_required ? 3 : 2, entitled);
  const form = page.locator('form[action$="/committee/election"]');
  await form.locator('input[name=held_on]').fill(today());
  await form.locator('input[name=seats]').fill(String(seats));
  await form.locator('input[name=entitled]').fill(String(entitled));
  await form.locator('input[name=present]').fill(String(entitled));
  const elected = [];
  for (let i = 0; i < seats; i++) {
    const row = rows.nth(i);
    elected.push((await row.locator('td').first().innerText()).replace('预备党员', '').trim());
    await row.locator('input[name^=votes_]').fill(String(entitled));
  }
  await rows.nth(0).locator('select[name^=post_]').selectOption('secretary');
  await clickTo(page, form.locator('button[type=submit]'), /saved=election/);

  assert.match(await page.locator('.alert.ok').innerText(), /换届选举已记录/);
  assert.match(await page.locator('main h2').first().innerText(), new RegExp(`第${number + 1}届`));
  const members = await page.locator('main section.card').first().locator('tbody tr').allInnerTexts();
  assert.equal(members.length, seats);
  assert.match(members[0], new RegExp(`${elected[0]}\\s+书记`));
  for (const name of elected) assert.ok(members.some((m) => m.includes(name)), `${name} is on the new committee`);
  assert.match(await page.locator('main').innerText(), new RegExp(`第${number}届`), 'the old term is in the history');
  await shot(page, 'committee-after');
  assertNoProblems(page);

  const after = (await asSecretary('GET', `/api/v1/orgs/${branch}/committee`)).json;
  assert.equal(after.current.number, number + 1);
  assert.equal(after.current.elected_on, today());

  const phone = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(phone, 'secretary');
  await phone.goto(`/orgs/${branch}/committee`);
  await noSidewaysScroll(phone);
  await shot(phone, 'committee-phone');
  assertNoProblems(phone);
});
