// 学习教育 authoring (issue 5): the demo secretary, on a desktop, builds a 题库 from the learning pages — a bank,
// a question refused without its stem (the message under the field) and then added — and schedules a
// 线上党课 that began a few minutes ago with its online link; a full member of her branch, on a phone, opens
// 线上党课, joins the class (her attendance is recorded) and only then sees the link; the secretary finishes
// it with a replay link and the class says it counts toward the branch's 党课.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, submit, assertNoProblems, branchMemberAccount, PHONE, DESKTOP } from './server.mjs';

let env;
before(async () => {
  env = await setup();
});
after(async () => {
  await env?.teardown();
});

/** Beijing time `minutes` from now as a datetime-local value (YYYY-MM-DDTHH:MM). */
function beijingLocal(minutes) {
  const t = new Date(Date.now() + minutes * 60_000 + 8 * 3600_000);
  return t.toISOString().slice(0, 16);
}

test('a secretary builds a bank and schedules a class; a member joins it on a phone', { timeout: 240_000 }, async () => {
  const sec = await env.page(DESKTOP);
  await login(sec, 'secretary');
  await sec.goto('/learning');
  await clickTo(sec, sec.locator('main a', { hasText: '题库' }), /\/learning\/banks$/);
  await sec.fill('#bank-title', '党章党规知识题库');
  await sec.fill('#bank-description', '支部学习用');
  assert.equal(await submit(sec, sec.locator('main button', { hasText: '建立题库' })), 303);
  assert.match(sec.url(), /\/learning\/banks\/\d+\?created=1$/);
  const bank = sec.url().match(/\/learning\/banks\/(\d+)/)[1];

  // A question without its stem: refused, the message under the field, what was typed kept.
  await sec.selectOption('#q-kind', 'single');
  await sec.fill('#q-options', '党费\n会费\n团费');
  await sec.fill('#q-correct', 'A');
  assert.equal(await submit(sec, sec.locator('#add button', { hasText: '添加题目' })), 422);
  assert.match(await sec.locator('#add .field-error').first().innerText(), /请填写题干/);
  assert.equal(await sec.inputValue('#q-correct'), 'A');
  await sec.fill('#q-stem', '党员应当按月交纳（ ）。');
  await sec.fill('#q-explanation', '《中国共产党章程》第八条。');
  await sec.fill('#q-tags', '党费 党章');
  assert.equal(await submit(sec, sec.locator('#add button', { hasText: '添加题目' })), 303);
  assert.match(sec.url(), new RegExp(`/learning/banks/${bank}\\?added=1`));
  const listed = await sec.locator('.question-list').innerText();
  assert.match(listed, /党员应当按月交纳/);
  assert.match(listed, /答案：A/);
  await shot(sec, 'learning-bank');

  // A class that began five minutes ago, with sign-in through 组织生活.
  await sec.goto('/learning/classes');
  await clickTo(sec, sec.locator('main a', { hasText: '安排党课' }), /\/learning\/classes\/new$/);
  await sec.fill('#class-title', '专题党课：学习党章');
  await sec.fill('#class-lecturer', '张书记');
  await sec.fill('#class-starts_at', beijingLocal(-5));
  await sec.fill('#class-link', 'https://meeting.example.edu.cn/r/2026');
  assert.equal(await submit(sec, sec.locator('main button', { hasText: '安排' })), 303);
  assert.match(sec.url(), /\/learning\/classes\/\d+\?created=1$/);
  const klass = sec.url().match(/\/learning\/classes\/(\d+)/)[1];
  assert.match(await sec.locator('main').innerText(), /结束后计入本组织的党课次数/);

  // The member, on a phone: the link shows only after she joined.
  const account = await branchMemberAccount(env.url, 'class_member');
  const member = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(member, account.username, account.password);
  await member.goto('/learning');
  await clickTo(member, member.locator('main a', { hasText: '线上党课' }), /\/learning\/classes$/);
  await clickTo(member, member.locator('main a', { hasText: '专题党课：学习党章' }), new RegExp(`/learning/classes/${klass}$`));
  assert.equal(await member.locator('main a', { hasText: '进入课堂' }).count(), 0, 'no link before joining');
  await shot(member, 'learning-class-before-join');
  assert.equal(await submit(member, member.locator('main button', { hasText: '签到并进入课堂' })), 303);
  assert.match(await member.locator('main').innerText(), /出勤已记录/);
  assert.equal(await member.locator('main a', { hasText: '进入课堂' }).getAttribute('href'), 'https://meeting.example.edu.cn/r/2026');
  await shot(member, 'learning-class-joined');

  // The secretary finishes it with the replay.
  await sec.goto(`/learning/classes/${klass}`);
  assert.match(await sec.locator('main').innerText(), /通过本页参加\s*1人/);
  await sec.fill('#finish-replay_url', 'https://video.example.edu.cn/replay/2026');
  assert.equal(await submit(sec, sec.locator('#finish button', { hasText: '结束党课' })), 303);
  assert.match(await sec.locator('main').innerText(), /已计入本组织的党课次数/);
  await shot(sec, 'learning-class-finished');
  assertNoProblems(sec);
  assertNoProblems(member);
});
