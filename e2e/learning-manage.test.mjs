// 学习教育, managing a material (issue 5): the university's staff publishes a material on a desktop, corrects
// it through 修改 (the page says it became version 2), and withdraws it through 撤回 — the confirmation page
// asks for a reason and refuses without one; a member on a phone finds the corrected material by a
// two-character word before the withdrawal and no longer finds it after.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, submit, assertNoProblems, PHONE, DESKTOP } from './server.mjs';

let env;
before(async () => {
  env = await setup();
});
after(async () => {
  await env?.teardown();
});

async function found(page, word, title) {
  await page.goto('/learning');
  await page.fill('#learn-q', word);
  await clickTo(page, page.locator('form.learn-search button'), /\/learning\?q=/);
  return (await page.locator('ul.hits li a', { hasText: title }).count()) > 0;
}

test('staff edits and withdraws a material; the member finds it, then no longer', { timeout: 180_000 }, async () => {
  const staff = await env.page(DESKTOP);
  await login(staff, 'staff');
  await staff.goto('/learning/new');
  await staff.fill('#f-title', '廉洁自律准则学习');
  await staff.fill('#f-tags', '廉洁 纪律');
  await staff.fill('#f-body', '坚持廉洁自律，严守党的纪律和规矩。');
  assert.equal(await submit(staff, staff.locator('main button', { hasText: '发布' })), 303);
  assert.match(staff.url(), /\/learning\/\d+\?saved=1$/);
  const id = staff.url().match(/\/learning\/(\d+)/)[1];

  // 修改: the form comes filled in; the saved page says version 2.
  await clickTo(staff, staff.locator('main a', { hasText: '修改' }), new RegExp(`/learning/${id}/edit$`));
  assert.equal(await staff.inputValue('#f-title'), '廉洁自律准则学习');
  assert.match(await staff.locator('main').innerText(), /当前为第1版/);
  await staff.fill('#f-title', '廉洁自律准则学习（修订）');
  await staff.fill('#f-body', '坚持廉洁自律，严守党的纪律和规矩，做到清正廉洁。');
  assert.equal(await submit(staff, staff.locator('main button', { hasText: '保存修改' })), 303);
  assert.match(await staff.locator('main').innerText(), /已保存为第2版/);
  assert.match(await staff.locator('#reader h1').innerText(), /（修订）/);
  await shot(staff, 'learning-edited');

  // The member finds the corrected material by a two-character word.
  const member = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(member, 'member');
  assert.ok(await found(member, '廉洁', '廉洁自律准则学习（修订）'), 'found before the withdrawal');

  // 撤回: the confirmation page, a reason required, then the banner.
  await clickTo(staff, staff.locator('main a', { hasText: '撤回' }), new RegExp(`/learning/${id}/withdraw$`));
  assert.match(await staff.locator('main').innerText(), /学习记录/);
  assert.equal(await submit(staff, staff.locator('main button', { hasText: '确认撤回' })), 422);
  assert.match(await staff.locator('.field-error').innerText(), /请填写撤回原因/);
  await staff.fill('#f-reason', '已并入新版学习材料');
  await shot(staff, 'learning-withdraw-confirm');
  assert.equal(await submit(staff, staff.locator('main button', { hasText: '确认撤回' })), 303);
  assert.match(await staff.locator('main').innerText(), /本材料已于.*撤回，原因：已并入新版学习材料/);
  assert.equal(await staff.locator('main a', { hasText: '修改' }).count(), 0, 'no more editing');

  // Gone from the member's search and list.
  assert.ok(!(await found(member, '廉洁', '廉洁自律准则学习（修订）')), 'not found after the withdrawal');
  await member.goto('/learning');
  assert.equal(await member.locator('main a', { hasText: '廉洁自律准则学习' }).count(), 0);
  await shot(member, 'learning-after-withdrawal');
  assertNoProblems(staff);
  assertNoProblems(member);
});
