// 学习教育 on a phone, the journey of issue 5: a member finds a material by a two-character word (党费), studies it
// (the reading page's heartbeat counts only while she is active; the material turns 已学完 after the estimate),
// practises with instant feedback on every question, and sees recommendations, each with its reason — one
// because of what she just studied.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, submit, assertNoProblems, PHONE } from './server.mjs';

let env;
before(async () => {
  env = await setup();
});
after(async () => {
  await env?.teardown();
});

test('a member finds 党费, studies it, practises, and sees why each recommendation is made', { timeout: 180_000 }, async () => {
  const page = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(page, 'member');
  await clickTo(page, page.locator('nav.tabbar a', { hasText: '学习教育' }), /\/learning$/);

  // Search by a two-character word: materials found, the word marked in each snippet.
  await page.fill('#learn-q', '党费');
  await clickTo(page, page.locator('form.learn-search button'), /\/learning\?q=/);
  const materials = page.locator('ul.hits li', { has: page.locator('.tag', { hasText: '学习材料' }) });
  assert.ok((await materials.count()) >= 2, 'both demo materials about 党费 are found');
  for (const mark of await page.locator('ul.hits li .snippet mark').allInnerTexts()) assert.equal(mark, '党费');
  await shot(page, 'learning-search');

  // Study the first one: the reading page counts active seconds only; after the estimate it is 已学完.
  await clickTo(page, materials.first().locator('a'), /\/learning\/\d+$/);
  const title = (await page.locator('#reader h1').innerText()).trim();
  assert.match(await page.locator('#study-state').innerText(), /学习中/);
  const until = Date.now() + 120_000;
  while (!(await page.locator('#study-state').innerText()).includes('已学完')) {
    assert.ok(Date.now() < until, `still not studied: ${await page.locator('#study-text').innerText()}`);
    await page.mouse.move(120 + Math.round(Math.random() * 100), 300 + Math.round(Math.random() * 100));
    await page.mouse.wheel(0, 40);
    await page.waitForTimeout(2_000);
  }
  await shot(page, 'learning-studied', { fullPage: false });

  // A practice: every question answered and checked at once, with the right answer and the explanation.
  await page.goto('/learning/exams');
  await clickTo(page, page.locator('a.mat-title', { hasText: '练习' }).first(), /\/learning\/exams\/\d+$/);
  assert.equal(await submit(page, page.locator('main button', { hasText: /开始练习|继续作答/ })), 303);
  assert.match(page.url(), /\/learning\/attempts\/\d+/);
  const questions = await page.locator('form.question').count();
  assert.ok(questions >= 1, 'the practice has questions');
  for (let i = 0; i < questions; i++) {
    const q = page.locator('form.question').nth(i);
    const check = q.locator('button', { hasText: '查看答案' });
    if ((await check.count()) === 0) continue;
    const blank = q.locator('input[type=text]');
    if ((await blank.count()) > 0) {
      for (let b = 0; b < (await blank.count()); b++) await blank.nth(b).fill('0.2');
    } else {
      await q.locator('label.choice input').first().check();
    }
    assert.equal(await submit(page, check), 303);
    const feedback = page.locator('form.question').nth(i).locator('p.alert');
    assert.match(await feedback.innerText(), /(回答正确|部分正确|回答错误) · 正确答案：/);
  }
  await shot(page, 'learning-practice');
  assert.equal(await submit(page, page.locator('main button', { hasText: '完成练习' })), 200);
  assert.match(await page.locator('main').innerText(), /练习完成/);

  // Recommendations: every item says why; one because of the material just studied.
  await page.goto('/learning');
  const recs = page.locator('ul.recs li');
  assert.ok((await recs.count()) >= 1, 'she has recommendations');
  const reasons = (await recs.locator('.reason').allInnerTexts()).map((r) => r.trim());
  assert.ok(reasons.every((r) => r.length > 0), `every item has a reason: ${reasons}`);
  assert.ok(reasons.includes(`因为你学习了《${title}》`), `a reason names what she studied: ${reasons}`);
  await shot(page, 'learning-recommendations');
  assertNoProblems(page);
});
