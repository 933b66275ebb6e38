// 第四十九条 (个人信息保护法): a member records on her phone what her close relatives may do with her data after her
// death. After her death her husband comes to her branch secretary, who checks his documents, finds her
// arrangement on the page, files his request for a copy (a wrong telephone is explained in Chinese, what was
// typed is kept) and downloads the copy to hand over.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, PHONE, api, clickTo, submit, branchMemberAccount, beijingToday, assertNoProblems } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

test('a member makes her arrangement; after her death her secretary files her husband\'s request for a copy', async () => {
  const member = await branchMemberAccount(env.url, 'posthumous_member');
  const phone = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(phone, member.username, member.password);
  await phone.goto('/account/privacy');
  const arrangement = phone.locator('#arrangement form');
  await arrangement.locator('input[name=relatives_may][value=yes]').check();
  await arrangement.locator('input[name=note]').fill('仅限配偶查阅');
  assert.equal(await submit(phone, arrangement.locator('button[type=submit]')), 200);
  assert.match(await phone.locator('main .alert.ok').innerText(), /已保存您的身后个人信息安排：允许近亲属依法申请/);
  const { scroll, client } = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `the page is ${scroll}px wide in a ${client}px screen`);
  await phone.locator('#arrangement').scrollIntoViewIfNeeded();
  await shot(phone, 'privacy-relatives-phone-arrangement', { fullPage: false });

  // Her death is recorded on her status (the transfers journey drives that page).
  const secretary = await api(env.url, 'secretary');
  const died = await secretary('POST', `/api/v1/people/${member.personId}/status`, { status: 'deceased', effective_on: beijingToday(), reason: '因病医治无效去世' });
  assert.equal(died.status, 200, died.text);

  const desk = await env.page();
  await login(desk, 'secretary');
  await desk.goto(`/people/${member.personId}`);
  await clickTo(desk, desk.locator('main a.button', { hasText: '近亲属信息请求' }), /\/privacy-request$/);
  assert.match(await desk.locator('main h1').innerText(), new RegExp(`近亲属个人信息请求：${member.name}`));
  assert.match(await desk.locator('#arrangement').innerText(), /本人生前同意近亲属依法申请[\s\S]*仅限配偶查阅/);

  const form = () => desk.locator('form:has(select[name=requester_relation])');
  await form().locator('select[name=kind]').selectOption('copy');
  await form().locator('select[name=requester_relation]').selectOption('spouse');
  await form().locator('input[name=requester_name]').fill('张建国');
  await form().locator('input[name=requester_phone]').fill('1390013');
  await form().locator('textarea[name=reason]').fill('办理继承手续需要查阅');
  await form().locator('input[name=identity_checked]').check();
  assert.equal(await submit(desk, form().locator('button[type=submit]')), 422);
  assert.match(await desk.locator('main .alert.error').innerText(), /申请人联系电话/);
  assert.equal(await form().locator('input[name=requester_name]').inputValue(), '张建国', 'what was typed is kept');
  await form().locator('input[name=requester_phone]').fill('13900139001');
  await form().locator('input[name=identity_checked]').check();
  assert.equal(await submit(desk, form().locator('button[type=submit]')), 200);
  assert.match(await desk.locator('main .alert.ok').innerText(), /已登记近亲属查阅复制请求/);
  await shot(desk, 'privacy-relatives-desktop-copy-ready');
  // The download form's POST (the token in the body, never in a URL), as the button sends it.
  const ready = desk.locator('#copy-ready form');
  const body = {
    csrf: await ready.locator('input[name=csrf]').inputValue(),
    token: await ready.locator('input[name=token]').inputValue(),
  };
  const zip = await desk.context().request.post('/account/privacy/copy', { form: body, headers: { origin: env.url } });
  assert.equal(zip.status(), 200);
  assert.match(zip.headers()['content-type'], /application\/zip/);
  assert.equal((await zip.body()).subarray(0, 2).toString(), 'PK');
  const again = await desk.context().request.post('/account/privacy/copy', { form: body, headers: { origin: env.url } });
  assert.equal(again.status(), 404, 'single use: the token is gone once used');
  assertNoProblems(desk);
  assertNoProblems(phone);
});
