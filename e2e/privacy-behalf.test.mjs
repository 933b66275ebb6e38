// 代为登记 (PIPL 第四十六、四十七条): a member tells her branch secretary in person that her phone number changed.
// The secretary opens her record, files the correction for her (an unreadable reason is explained in Chinese),
// and finds it in 个人信息请求; the member sees it on her phone under 我的个人信息 with who filed it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, PHONE, clickTo, submit, branchMemberAccount, assertNoProblems } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

test('the secretary files a correction for a member who asked in person; the member sees it', async () => {
  const member = await branchMemberAccount(env.url, 'behalf_member');
  const desk = await env.page();
  await login(desk, 'secretary');
  await desk.goto(`/people/${member.personId}`);
  await clickTo(desk, desk.locator('main a.button', { hasText: '代为登记信息请求' }), /\/privacy-request$/);
  assert.match(await desk.locator('main h1').innerText(), new RegExp(`代为登记个人信息请求：${member.name}`));

  const correction = desk.locator('form:has(input[name=kind][value=correction])');
  await correction.locator('select[name=field]').selectOption('phone');
  await correction.locator('input[name=proposed]').fill('13900139000');
  await correction.locator('textarea[name=reason]').fill('改');
  assert.equal(await submit(desk, correction.locator('button[type=submit]')), 422);
  assert.match(await desk.locator('main .alert.error').innerText(), /请写明更正理由/);
  assert.equal(await desk.locator('form:has(input[name=kind][value=correction]) input[name=proposed]').inputValue(), '13900139000', 'what she typed is kept');
  await desk.locator('form:has(input[name=kind][value=correction]) textarea[name=reason]').fill('本人当面告知手机号已更换');
  assert.equal(await submit(desk, desk.locator('form:has(input[name=kind][value=correction]) button[type=submit]')), 200);
  assert.match(await desk.locator('main .alert.ok').innerText(), /已代为登记更正请求/);
  await shot(desk, 'privacy-behalf-desktop-filed');

  await desk.goto('/privacy/requests');
  const card = desk.locator('section.request', { hasText: member.name });
  assert.match(await card.innerText(), /登记人[\s\S]*代为登记/);
  await shot(desk, 'privacy-behalf-desktop-queue');

  const phone = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(phone, member.username, member.password);
  await phone.goto('/account/privacy');
  const mine = await phone.locator('#my-requests').innerText();
  assert.match(mine, /更正[\s\S]*代为登记/);
  assert.match(mine, /13900139000/);
  const { scroll, client } = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `the page is ${scroll}px wide in a ${client}px screen`);
  await phone.locator('#my-requests').scrollIntoViewIfNeeded();
  await shot(phone, 'privacy-behalf-phone-mine', { fullPage: false });
  assertNoProblems(desk);
  assertNoProblems(phone);
});
