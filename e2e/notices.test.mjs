// 通知回执: the branch secretary publishes a notice that needs a receipt on the desktop; a member of her branch
// finds it under 待确认的通知 on her phone's home page, opens it and presses 确认已读; it leaves her home page,
// and the secretary's notice page and list count one more confirmation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, submit, assertNoProblems, branchMemberAccount, PHONE } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

/** The number under a stat label on the notice page's 确认情况 card. */
async function stat(page, label) {
  return Number(await page.locator('.stat', { has: page.locator(`.stat-l:text-is("${label}")`) }).locator('.stat-n').innerText());
}

test('a member confirms a notice from her home page and the publisher sees the receipt', async () => {
  const member = await branchMemberAccount(env.url, 'notice_member');
  const title = '关于提交11月思想汇报的通知';

  // The secretary publishes a notice needing a receipt to her branch.
  const desk = await env.page();
  await login(desk, 'secretary');
  await desk.goto('/notices/new');
  await desk.fill('#f-title', title);
  await desk.fill('#f-body', '请支部全体党员于11月30日前提交本月思想汇报，并在平台上确认已读。');
  await desk.check('input[name=needs_receipt]');
  assert.equal(await submit(desk, desk.locator('main button:text-is("发布")')), 303);
  assert.match(desk.url(), /\/notices\/\d+/);
  const noticePath = new URL(desk.url()).pathname;
  assert.equal(await desk.locator('main h1').innerText(), title);
  const total = await stat(desk, '接收（人）');
  assert.ok(total >= 1, 'the branch receives it');
  assert.equal(await stat(desk, '已确认（人）'), 0);
  await shot(desk, 'notices-desktop-published');

  // The member sees it on her phone's home page and confirms it.
  const phone = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(phone, member.username, member.password);
  const waiting = phone.locator('section.card', { has: phone.locator('h2', { hasText: '待确认的通知' }) });
  assert.ok(await waiting.isVisible(), 'her home page lists notices waiting for her');
  const link = waiting.locator('a', { hasText: title });
  assert.equal(await link.count(), 1);
  await shot(phone, 'notices-phone-home', { fullPage: false });
  await clickTo(phone, link, new RegExp(`${noticePath}$`));
  assert.ok(await phone.locator('.tag', { hasText: '需回执' }).isVisible());
  const button = phone.locator('section.receipt button:text-is("确认已读")');
  const box = await button.boundingBox();
  assert.ok(box.width >= 300, `the button spans the phone: ${box.width}px`);
  await shot(phone, 'notices-phone-notice');
  assert.equal(await submit(phone, button), 303);
  assert.ok(await phone.locator('section.receipt .pill', { hasText: '已确认阅读' }).isVisible());
  assert.equal(await phone.locator('section.receipt button').count(), 0, 'nothing left to press');
  await shot(phone, 'notices-phone-confirmed', { fullPage: false });
  const { scroll, client } = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `the notice is ${scroll}px wide in a ${client}px screen`);

  // It has left her home page.
  await phone.goto('/');
  assert.equal(await phone.locator('main a', { hasText: title }).count(), 0);

  // The secretary sees one more confirmation, on the notice and in the list of what her branch published.
  await desk.reload();
  assert.equal(await stat(desk, '已确认（人）'), 1);
  assert.equal(await stat(desk, '接收（人）'), total);
  await desk.goto('/notices');
  const row = desk.locator('table tbody tr', { hasText: title });
  assert.match(await row.locator('td[data-label="已确认"]').innerText(), new RegExp(`^1 / ${total}`));
  await shot(desk, 'notices-desktop-list');
  if (total > 1) {
    // Those still to confirm are listed, without her.
    await desk.goto(`${noticePath}/unread`);
    assert.ok(!(await desk.locator('main').innerText()).includes(member.name), 'she is no longer among the unconfirmed');
  }

  for (const p of [desk, phone]) assertNoProblems(p);
});
