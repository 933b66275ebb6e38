// 会议通知, minutes attachments and 定期计划: the branch secretary plans a meeting for one member of her branch on
// the desktop; that member finds the 会议通知 on her phone's home page and reaches the meeting from it; the
// secretary attaches a file to the minutes and sees the notice's receipt on the meeting page; then she makes a
// monthly plan and opens one of its meetings on a phone.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, submit, assertNoProblems, branchMemberAccount, PHONE } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

function daysAhead(n) {
  const d = new Date(Date.now() + n * 86_400_000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(d);
}

test('a planned meeting notifies its attendee, takes minutes files, and a monthly plan writes its meetings', async () => {
  const member = await branchMemberAccount(env.url, 'meeting_member');
  const title = '下周主题党日：重温入党誓词';

  // The secretary plans a meeting for this one member.
  const desk = await env.page();
  await login(desk, 'secretary');
  await desk.goto(`/orgs/${member.orgId}/meetings/new`);
  await desk.selectOption('#f-kind', 'theme_day');
  await desk.fill('#f-title', title);
  await desk.fill('#f-held_on', daysAhead(7));
  await desk.fill('#f-start_time', '14:30');
  await desk.fill('#f-place', '党员活动室');
  await desk.check('input[name=attendees_mode][value=selected]');
  await desk.check(`input[name=attendee][value="${member.personId}"]`);
  assert.equal(await submit(desk, desk.locator('main button[type=submit]').last()), 303);
  assert.match(desk.url(), /\/meetings\/\d+/);
  const meetingPath = new URL(desk.url()).pathname;

  // She sees the notice on her phone's home page and reaches the meeting from it.
  const phone = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(phone, member.username, member.password);
  const link = phone.locator('main a', { hasText: `会议通知：${title}` });
  assert.equal(await link.count(), 1, 'the home page lists the meeting notice');
  await shot(phone, 'meetings-phone-home-notice', { fullPage: false });
  await clickTo(phone, link, /\/notices\/\d+$/);
  assert.match(await phone.locator('main').innerText(), /发送给会议参会人员/);
  await shot(phone, 'meetings-phone-notice');
  await submit(phone, phone.locator('section.receipt button:text-is("确认已读")'));
  await clickTo(phone, phone.locator('main a', { hasText: '查看会议、请假' }), new RegExp(`${meetingPath}$`));
  const { scroll, client } = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `the meeting is ${scroll}px wide in a ${client}px screen`);

  // The secretary attaches a file to the minutes; the meeting page shows the notice's receipt.
  await desk.reload();
  await desk.setInputFiles('#f-file', { name: '会议材料.txt', mimeType: 'text/plain', buffer: Buffer.from('重温入党誓词活动安排') });
  assert.equal(await submit(desk, desk.locator('form.upload-form button')), 303);
  assert.ok(await desk.locator('main a', { hasText: '会议材料.txt' }).isVisible());
  assert.match(await desk.locator('main').innerText(), /已确认 1\/1 人/);
  await shot(desk, 'meetings-desktop-meeting');

  // A monthly plan: the last Friday of every month until the end of the year.
  await desk.goto(`/orgs/${member.orgId}/meeting-plans/new`);
  await shot(desk, 'meetings-desktop-plan-form');
  await desk.fill('#f-title', '主题党日');
  await desk.selectOption('#f-rule', 'weekday');
  await desk.selectOption('#f-nth', '5');
  await desk.selectOption('#f-weekday', '5');
  const year = Number(daysAhead(0).slice(0, 4));
  await desk.fill('#f-starts_on', daysAhead(0));
  await desk.fill('#f-ends_on', `${year + 1}-03-31`);
  assert.equal(await submit(desk, desk.locator('main button:text-is("生成会议并通知")')), 303);
  assert.match(desk.url(), /\/meeting-plans\/\d+/);
  assert.match(await desk.locator('main').innerText(), /每月最后一个星期五/);
  const planPath = new URL(desk.url()).pathname;
  await shot(desk, 'meetings-desktop-plan');

  // The plan's page and one of its meetings on a phone (the secretary's phone).
  const secPhone = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(secPhone, 'secretary');
  await secPhone.goto(planPath);
  await shot(secPhone, 'meetings-phone-plan');
  await secPhone.goto(`/orgs/${member.orgId}/meeting-plans/new`);
  await shot(secPhone, 'meetings-phone-plan-form');
  await secPhone.goto(`/orgs/${member.orgId}/meetings`);
  assert.ok(await secPhone.locator('main h2', { hasText: '定期计划' }).isVisible(), 'the meeting list names the running plans');
  await shot(secPhone, 'meetings-phone-list', { fullPage: false });
  await secPhone.goto(meetingPath);
  await shot(secPhone, 'meetings-phone-meeting');
  const w = await secPhone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(w.scroll <= w.client, `${secPhone.url()} is ${w.scroll}px wide in a ${w.client}px screen`);
  for (const p of [desk, phone, secPhone]) assertNoProblems(p);
});
