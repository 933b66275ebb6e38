// Each role logs in through the form and lands on the home page made for it: the right greeting,
// the right navigation (the 三员 separation: the system administrator has no 党员 entry, only the
// auditor has 审计) and the right cards.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, navLabels, shot, clickTo, submit, dd, assertNoProblems } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

const GREETING = /，(上午|中午|下午|晚上)好$/;

async function homeAs(username) {
  const page = await env.page();
  await login(page, username);
  assert.equal(new URL(page.url()).pathname, '/', `${username} lands on the home page`);
  return page;
}

async function cardTitles(page) {
  return (await page.locator('main section.card h2').allInnerTexts()).map((s) => s.trim());
}

test('a wrong password is refused in Chinese and the username is kept', async () => {
  const page = await env.page();
  await page.goto('/login');
  await page.fill('#username', 'security');
  await page.fill('#password', 'not-the-password');
  const [res] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST'), page.click('button[type=submit]')]);
  assert.equal(res.status(), 401);
  const err = page.locator('#login-error');
  await err.waitFor();
  assert.match(await err.innerText(), /[\u4e00-\u9fff]/, 'the message is Chinese');
  assert.equal(await page.inputValue('#username'), 'security');
  assert.equal(await page.inputValue('#password'), '', 'the password is not echoed back');
  // An anonymous visit to a page sends the visitor to the login form and back afterwards.
  const anon = await env.page();
  await anon.goto('/people');
  assert.equal(new URL(anon.url()).pathname, '/login');
  await shot(page, 'roles-login-error');
});

test('admin (system administrator): organizations and accounts, no people, no audit', async () => {
  const page = await homeAs('admin');
  assert.match(await page.locator('main h1').innerText(), GREETING);
  const nav = await navLabels(page);
  assert.ok(nav.includes('组织') && nav.includes('账号'), `nav: ${nav}`);
  assert.ok(!nav.includes('党员'), `the system administrator sees no people: ${nav}`);
  assert.ok(!nav.includes('审计'), `audit belongs to the audit administrator: ${nav}`);
  assert.deepEqual(await cardTitles(page), ['系统管理']);
  assert.equal(await page.locator('main .stat-n').count(), 0, 'no head counts of people');
  assert.equal(await page.locator('.banner.warn').count(), 1, 'administrators are warned that MFA is off');
  await clickTo(page, page.locator('main a.button', { hasText: '账号列表' }), /\/admin\/users$/);
  const usernames = await page.locator('td[data-label="用户名"]').allInnerTexts();
  for (const u of ['admin', 'security', 'auditor', 'staff', 'secretary', 'member']) assert.ok(usernames.includes(u), `${u} listed`);
  // People pages stay closed to the system administrator.
  const res = await page.goto('/people/new');
  assert.ok([403, 404].includes(res.status()), `/people/new answered ${res.status()}`);
  await page.goto('/');
  await shot(page, 'roles-admin-home');
});

test('staff (组织员 of the whole university): the university card with head counts', async () => {
  const page = await homeAs('staff');
  assert.match(await page.locator('main h1').innerText(), GREETING);
  const nav = await navLabels(page);
  for (const n of ['首页', '组织', '党员']) assert.ok(nav.includes(n), `nav has ${n}: ${nav}`);
  assert.ok(!nav.includes('账号') && !nav.includes('审计'), `no system items: ${nav}`);
  const titles = await cardTitles(page);
  assert.equal(titles.length, 1, `one top organization: ${titles}`);
  assert.match(titles[0], /党委$/);
  const card = page.locator('main section.card').first();
  const total = Number(await card.locator('.stat', { hasText: '总人数' }).locator('.stat-n').innerText());
  assert.ok(total > 100, `the small demo university has a few hundred people, saw ${total}`);
  // The five stage bars add up to the total.
  const bars = await card.locator('.bar-value').allTextContents();
  assert.equal(bars.length, 5);
  assert.equal(bars.map(Number).reduce((a, b) => a + b, 0), total);
  assert.equal(await card.locator('a.button', { hasText: '新增人员' }).count(), 1, 'staff may add people');
  await shot(page, 'roles-staff-home');

  // 退出 ends the session: the login page with its own layout, and the home page asks to log in again.
  await clickTo(page, page.locator('header button', { hasText: '退出' }), /\/login$/);
  assert.ok(await page.locator('body.login-body #username').isVisible(), 'the login page, laid out as such');
  await page.goto('/');
  assert.equal(new URL(page.url()).pathname, '/login');
  assertNoProblems(page);
});

test('secretary (支部书记): her own branch only', async () => {
  const page = await homeAs('secretary');
  const nav = await navLabels(page);
  assert.ok(nav.includes('党员'), `nav: ${nav}`);
  assert.ok(!nav.includes('账号') && !nav.includes('审计'), `nav: ${nav}`);
  const titles = await cardTitles(page);
  assert.equal(titles.length, 1);
  assert.match(titles[0], /党支部$/, `a branch: ${titles[0]}`);
  assert.equal(await page.locator('main section.card .tag').first().innerText(), '党支部');
  assert.equal(await page.locator('.banner.warn').count(), 0, 'no MFA banner for a secretary');
  await shot(page, 'roles-secretary-home');
});

test('leader (校领导): the whole university, read-only', async () => {
  const page = await homeAs('leader');
  const nav = await navLabels(page);
  assert.ok(nav.includes('组织') && nav.includes('党员'), `nav: ${nav}`);
  const titles = await cardTitles(page);
  assert.equal(titles.length, 1);
  assert.match(titles[0], /党委$/);
  assert.equal(await page.locator('main a', { hasText: '新增人员' }).count(), 0, 'a leader cannot add people');
  // A person's page has no edit button, and the edit form is refused.
  await clickTo(page, page.locator('main a.button', { hasText: '人员名册' }), /\/people\?org_id=\d+/);
  await clickTo(page, page.locator('td[data-label="姓名"] a').first(), /\/people\/\d+$/);
  assert.equal(await page.locator('main a', { hasText: '编辑' }).count(), 0, 'no edit button');
  const res = await page.goto(page.url() + '/edit');
  assert.ok([403, 404].includes(res.status()), `edit answered ${res.status()}`);
  await page.goto('/');
  await shot(page, 'roles-leader-home');
});

test('member (党员): her development progress and her own record', async () => {
  const page = await homeAs('member');
  const nav = await navLabels(page);
  assert.ok(nav.includes('我的档案'), `nav: ${nav}`);
  assert.ok(!nav.includes('党员') && !nav.includes('组织'), `a member sees no roster or tree: ${nav}`);
  // The demo's branch sent her a notice that asks for a receipt: she opens it from home and confirms it.
  const waiting = (await cardTitles(page)).find((t) => t.startsWith('待确认的通知'));
  assert.ok(waiting, `a waiting notice on her home page: ${await cardTitles(page)}`);
  const before = Number(waiting.match(/（(\d+)）/)[1]);
  await clickTo(page, page.locator('main section.card .notice-list a').first(), /\/notices\/\d+$/);
  assert.equal(await submit(page, page.locator('main button', { hasText: '确认已读' })), 303);
  assert.match(await page.locator('main .receipt').innerText(), /已确认阅读/);
  await shot(page, 'roles-member-notice', { fullPage: false });
  await page.goto('/');
  const after = (await cardTitles(page)).find((t) => t.startsWith('待确认的通知'));
  assert.equal(after ? Number(after.match(/（(\d+)）/)[1]) : 0, before - 1, 'the confirmed notice left the home page');
  assert.ok((await cardTitles(page)).includes('我的发展进度'));
  const steps = await page.locator('ol.steps li .step-label').allInnerTexts();
  assert.deepEqual(steps, ['递交入党申请书', '入党积极分子', '发展对象', '预备党员', '正式党员']);
  assert.ok(await page.locator('ol.steps li.done').count() >= 1, 'at least the application is done');
  await clickTo(page, page.locator('main a', { hasText: '查看我的档案' }), /\/people\/\d+$/);
  assert.match(await dd(page, '公民身份号码'), /\*{4}/);
  await shot(page, 'roles-member-record');
});

test('auditor (审计管理员): 审计 in the navigation and a verifiable log', async () => {
  const page = await homeAs('auditor');
  const nav = await navLabels(page);
  assert.ok(nav.includes('审计'), `nav: ${nav}`);
  assert.ok(!nav.includes('党员') && !nav.includes('账号'), `nav: ${nav}`);
  assert.deepEqual(await cardTitles(page), ['安全审计']);
  await clickTo(page, page.locator('nav.sidenav a', { hasText: '审计' }), /\/audit$/);
  assert.equal(await page.locator('main h1').innerText(), '审计日志');
  // The auditor's own login was just written to the log.
  const row = page.locator('tbody tr', { has: page.locator('td[data-label="对象"]', { hasText: 'user:auditor' }) }).first();
  assert.equal(await row.locator('td[data-label="操作"]').innerText(), 'auth.login');
  assert.equal(await row.locator('td[data-label="结果"]').innerText(), '成功');
  await clickTo(page, page.locator('main button', { hasText: '校验完整哈希链' }), /\/audit$/);
  const verdict = page.locator('.alert.ok');
  await verdict.waitFor();
  assert.match(await verdict.innerText(), /校验通过：\d+ 条记录完整/);
  await shot(page, 'roles-auditor-audit');
});
