// The same pages on a 390×844 phone: a member gets the bottom tab bar and her own record; the left
// navigation becomes a drawer; a secretary's roster turns from a table into cards; nothing scrolls sideways.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, dd, api, assertNoProblems, PHONE } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

const phone = () => env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });

async function noSidewaysScroll(page) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `the page is ${scroll}px wide in a ${client}px screen`);
}

async function inViewport(locator) {
  const box = await locator.boundingBox();
  return !!box && box.x + box.width > 0 && box.x < PHONE.width && box.width > 0;
}

test('a member on a phone: tab bar, progress, her own record', async () => {
  const page = await phone();
  await login(page, 'member');
  await noSidewaysScroll(page);

  // Members get the bottom tab bar, not the sidebar.
  const tabbar = page.locator('nav.tabbar');
  assert.ok(await tabbar.isVisible(), 'the tab bar is shown');
  const tabs = (await tabbar.locator('a').allInnerTexts()).map((s) => s.trim());
  assert.equal(tabs[0], '首页');
  assert.ok(tabs.includes('我的档案'), `her record is a tab: ${tabs}`);
  assert.ok(tabs.length <= 4, `at most four tabs, each a thumb wide: ${tabs}`);
  const box = await tabbar.boundingBox();
  assert.ok(Math.abs(box.y + box.height - PHONE.height) <= 1, 'the tab bar sits at the bottom of the screen');
  assert.equal(await tabbar.locator('a.active').innerText(), '首页');
  assert.equal(await inViewport(page.locator('nav.sidenav')), false, 'the sidebar is off screen');
  assert.ok(await page.locator('ol.steps').isVisible(), 'her development progress is on the first screen');
  const stepsBox = await page.locator('ol.steps').boundingBox();
  assert.ok(stepsBox.y + stepsBox.height <= box.y, 'the progress is above the fold and above the tab bar');

  await clickTo(page, tabbar.locator('a', { hasText: '我的档案' }), /\/people\/\d+$/);
  assert.equal(await tabbar.locator('a.active').innerText(), '我的档案');
  assert.match(await dd(page, '公民身份号码'), /\*{4}/);
  assert.ok((await page.locator('main h1').innerText()).trim().length >= 2, 'her name is the title');
  // Both cards are stacked in one column.
  const cards = page.locator('main section.card');
  const [a, b] = [await cards.nth(0).boundingBox(), await cards.nth(1).boundingBox()];
  assert.ok(b.y >= a.y + a.height && Math.abs(a.x - b.x) < 1, 'cards are stacked');
  await noSidewaysScroll(page);
  await shot(page, 'phone-member-record', { fullPage: false });

  assertNoProblems(page);

  // Anyone else's record is not hers to see.
  const ownId = Number(new URL(page.url()).pathname.split('/').pop());
  const asStaff = await api(env.url, 'staff');
  const other = (await asStaff('GET', '/api/v1/people?per_page=5')).json.items.find((p) => p.id !== ownId);
  const res = await page.goto(`/people/${other.id}`);
  assert.equal(res.status(), 404);
});

test("a secretary's roster on a phone: cards instead of a table, navigation in a drawer", async () => {
  const page = await phone();
  await login(page, 'secretary');
  assert.equal(await page.locator('nav.tabbar').count(), 0, 'staff roles have no member tab bar');

  // The drawer opens from the menu button and leads to the roster.
  const sidenav = page.locator('nav.sidenav');
  assert.equal(await inViewport(sidenav), false);
  await page.click('label.nav-button');
  await page.waitForFunction(() => document.querySelector('nav.sidenav').getBoundingClientRect().left >= 0);
  assert.ok(await inViewport(sidenav), 'the drawer is open');
  await clickTo(page, sidenav.getByRole('link', { name: '党员', exact: true }), /\/people$/);
  assert.equal(await inViewport(sidenav), false, 'the drawer closes on the new page');

  const table = page.locator('table.table.responsive');
  assert.equal(await table.locator('thead').evaluate((el) => getComputedStyle(el).display), 'none', 'no table header');
  const rows = table.locator('tbody tr');
  const n = await rows.count();
  assert.ok(n > 1);
  assert.equal(await rows.first().evaluate((el) => getComputedStyle(el).display), 'block', 'rows are cards');
  const first = await rows.nth(0).boundingBox();
  const second = await rows.nth(1).boundingBox();
  assert.ok(second.y > first.y + first.height, 'cards are stacked with a gap');
  assert.ok(first.width <= PHONE.width && first.x >= 0, 'a card fits the screen');
  // Each value carries its label.
  const label = await rows.first().locator('td[data-label="身份证号"]').evaluate((el) => getComputedStyle(el, '::before').content);
  assert.equal(label, '"身份证号"');
  await noSidewaysScroll(page);
  assertNoProblems(page);
  await shot(page, 'phone-secretary-roster', { fullPage: false });
});
