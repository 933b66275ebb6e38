// A branch secretary records a member's Party-fee payment on the fees pages: from 党费 (her branch's yearly
// ledger) to the member's dues, 登记交纳 for the month that is due; the member's months and the 12-month grid
// show it paid. The member, given an account by the security administrator, sees the payment on her own dues page on a
// phone. Screenshots at 1440 and 390 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, act, clickTo, submit, api, assertNoProblems, PHONE, PASSWORD } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

test('a secretary records a payment; the grid shows it; the member sees it on her phone', async () => {
  const page = await env.page();
  await login(page, 'secretary');
  await page.goto('/fees');
  assert.match(new URL(page.url()).pathname, /^\/orgs\/\d+\/fees$/, '党费 opens her branch ledger');
  const grid = page.locator('table.fee-grid');
  await grid.waitFor();

  // A member whose dues are set up and who has a month to pay now (应交 or 欠交).
  const rows = grid.locator('tbody tr');
  let row;
  for (let i = 0; i < await rows.count(); i++) {
    const r = rows.nth(i);
    if (await r.locator('td.cell[title$=" 应交"], td.cell[title$=" 欠交"]').count()) { row = r; break; }
  }
  assert.ok(row, 'a member with a month to pay');
  const link = row.locator('th a');
  const name = (await link.innerText()).trim();
  const personId = (await link.getAttribute('href')).match(/\/people\/(\d+)\/fees/)[1];
  const cell = row.locator('td.cell[title$=" 应交"], td.cell[title$=" 欠交"]').first();
  const [month, ...label] = (await cell.getAttribute('title')).split(' ');
  const monthNo = Number(month.slice(5));
  const headCells = await grid.locator('thead th').allInnerTexts();
  const column = headCells.indexOf(`${monthNo}月`);
  assert.ok(column > 0, `the grid has a column for ${monthNo}月`);
  await shot(page, 'fees-ledger-before-desktop');

  // The member's dues page, and 登记交纳 there.
  await clickTo(page, link, new RegExp(`/people/${personId}/fees`));
  assert.match(await page.locator('main').innerText(), new RegExp(name));
  const secretaryApi = await api(env.url, 'secretary');
  const account = (await secretaryApi('GET', `/api/v1/people/${personId}/fees`)).json;
  const due = account.months.find((m) => m.month === month).due;
  assert.ok(due, `the dues of ${month} are known (${label.join(' ')})`);
  await clickTo(page, page.locator('main a', { hasText: '登记交纳' }).first(), new RegExp(`/people/${personId}/fees/pay`));
  await page.fill('[name=from_month]', month);
  await page.fill('[name=to_month]', month);
  await page.fill('[name=amount]', due);
  const method = page.locator('select[name=method]');
  if (await method.count()) await method.selectOption({ index: 1 }).catch(() => {});
  await shot(page, 'fees-pay-form-desktop');
  const status = await submit(page, page.locator('main form button[type=submit]').first());
  assert.ok(status === 303 || status === 200, `the payment answered ${status}: ${await page.locator('main').innerText()}`);
  assert.match(page.url(), new RegExp(`/people/${personId}/fees\\?done=paid`), `saved: ${page.url()}`);
  assert.match(await page.locator('main').innerText(), new RegExp(due.replace('.', '\\.')));
  await shot(page, 'fees-account-paid-desktop');

  // The 12-month grid: that month is 已交 now.
  await page.goto('/fees');
  const after = page.locator('table.fee-grid tbody tr', { has: page.locator(`th a[href^="/people/${personId}/fees"]`) });
  const paidCell = after.locator(`td.cell[title^="${month}"]`);
  assert.match(await paidCell.getAttribute('title'), /已交/);
  assert.match(await paidCell.innerText(), /✓/);
  await shot(page, 'fees-ledger-after-desktop');
  assertNoProblems(page);

  // The member: the security administrator gives her an account linked to her record; on her phone she sees the month paid.
  const admin = await api(env.url, 'security'); // accounts are the security administrator's (三员分立)
  const made = await admin('POST', '/api/v1/users', {
    username: 'fee_member', password: PASSWORD, display_name: name, person_id: Number(personId),
    grants: [{ role: 'member', org_id: account.person.org_id }],
  });
  assert.ok(made.status === 201 || made.status === 200, `the account: ${made.status} ${made.text}`);
  const phone = await env.page(PHONE);
  await login(phone, 'fee_member');
  await phone.goto(`/people/${personId}/fees`);
  const mine = await phone.locator('main').innerText();
  assert.match(mine, new RegExp(name));
  assert.match(mine, /已交/);
  const monthLine = phone.locator('main').getByText(new RegExp(`${month}|${monthNo}月`)).first();
  assert.ok(await monthLine.count(), `the month ${month} is listed`);
  assert.match(mine, new RegExp(due.replace('.', '\\.')));
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `her dues page fits the phone (overflow ${overflow}px)`);
  await shot(phone, 'fees-member-phone');
  // Someone else's dues are not hers to read.
  const other = await phone.goto(`/people/${Number(personId) + 1}/fees`);
  assert.equal(other.status(), 404);
  assertNoProblems(phone);
});
