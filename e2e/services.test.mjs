// 党员服务: a member files 开具党员身份证明 on her 390 px phone; her branch secretary finds it in 待办理的申请 on
// the desktop and completes it, which issues a numbered certificate; the member sees it on her phone and
// downloads the PDF; anyone scanning its QR code opens the public verification page, which says 有效 and
// shows the name masked (surname only), nothing else about her.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, submit, dd, assertNoProblems, branchMemberAccount, PHONE } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

const phone = () => env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });

async function noSidewaysScroll(page) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `${page.url()} is ${scroll}px wide in a ${client}px screen`);
}

test('a membership certificate: filed on the phone, completed by the secretary, verified in public', async () => {
  const member = await branchMemberAccount(env.url, 'services_member');
  const purpose = '办理出国（境）留学政审材料，需党员身份证明';

  // The member files the request on her phone.
  const mine = await phone();
  await login(mine, member.username, member.password);
  await mine.goto('/services');
  await noSidewaysScroll(mine);
  // A request without a matter is refused field by field, in Chinese, and nothing is filed.
  assert.equal(await submit(mine, mine.locator('form[action="/services"] button[type=submit]')), 422);
  assert.ok(await mine.locator('.field-error').first().isVisible(), 'the missing matter is marked');
  assert.match(await mine.locator('main').innerText(), /还没有申请/);
  await shot(mine, 'services-phone-refused', { fullPage: false });
  await mine.selectOption('#f-kind', 'membership_proof');
  await mine.fill('#f-details', purpose);
  assert.equal(await submit(mine, mine.locator('form[action="/services"] button[type=submit]')), 303);
  assert.match(mine.url(), /\/services\/\d+\?filed=1$/);
  const requestId = Number(new URL(mine.url()).pathname.split('/').pop());
  assert.match(await mine.locator('main h1').innerText(), /^开具党员身份证明\s*已提交$/);
  assert.equal(await dd(mine, '用途或说明'), purpose);
  await noSidewaysScroll(mine);
  await shot(mine, 'services-phone-filed');

  // Her branch secretary finds it on the desktop and completes it with a note.
  const desk = await env.page();
  await login(desk, 'secretary');
  await desk.goto('/services');
  const row = desk.locator('table tbody tr', { hasText: member.name });
  assert.equal(await row.count(), 1, 'the request is in the secretary\'s list');
  assert.match(await row.innerText(), /开具党员身份证明/);
  await shot(desk, 'services-desktop-to-handle');
  await clickTo(desk, row.locator('a', { hasText: '开具党员身份证明' }), new RegExp(`/services/${requestId}$`));
  await desk.fill('#f-note', '已开具，请持证明原件办理');
  assert.equal(await submit(desk, desk.locator('button:text-is("办结")')), 303);
  assert.match(await desk.locator('main h1').innerText(), /已办结/);
  const certText = await desk.locator('main section.card', { hasText: '编号' }).first().innerText();
  const number = certText.match(/编号\s*(\S+)/)[1];
  assert.ok(number.length >= 10, `the certificate number is long enough not to be guessed: ${number}`);
  await shot(desk, 'services-desktop-completed');

  // The member sees it completed, with the note and the certificate, and downloads the PDF.
  await mine.goto('/services');
  assert.match(await mine.locator('ul.notice-list li', { hasText: '开具党员身份证明' }).innerText(), /已办结/);
  await clickTo(mine, mine.locator('ul.notice-list a', { hasText: '开具党员身份证明' }), new RegExp(`/services/${requestId}$`));
  assert.equal(await dd(mine, '办理说明'), '已开具，请持证明原件办理');
  assert.match(await mine.locator('main').innerText(), new RegExp(`编号\\s*${number}\\s*·\\s*有效`));
  await noSidewaysScroll(mine);
  await shot(mine, 'services-phone-certificate');
  const href = await mine.locator('a.button', { hasText: '下载证明（PDF）' }).getAttribute('href');
  const pdf = await mine.context().request.get(href);
  assert.equal(pdf.status(), 200);
  assert.match(pdf.headers()['content-type'], /application\/pdf/);
  const bytes = await pdf.body();
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
  assert.ok(bytes.length > 1000, `a real document: ${bytes.length} bytes`);

  // Someone else's request is not hers: the secretary's other ids answer 404 to her.
  const other = await mine.goto(`/services/${requestId + 1000}`);
  assert.equal(other.status(), 404);

  // The public verification page (what the certificate's QR code opens), in a browser nobody signed in to.
  const visitor = await phone();
  const res = await visitor.goto(`/verify/certificates/${number}`);
  assert.equal(res.status(), 200);
  assert.match(await visitor.locator('.alert').innerText(), /有效/);
  assert.equal(await dd(visitor, '证明'), '党员身份证明');
  assert.equal(await dd(visitor, '编号'), number);
  const masked = member.name[0] + '*'.repeat([...member.name].length - 1);
  assert.equal(await dd(visitor, '党员'), masked);
  assert.equal(await dd(visitor, '开具单位'), '马克思主义2022级本科生第1党支部');
  const publicText = await visitor.locator('main').innerText();
  assert.ok(!publicText.includes(member.name), 'the full name is not shown');
  assert.ok(!publicText.includes(purpose), 'the purpose is not shown');
  await noSidewaysScroll(visitor);
  await shot(visitor, 'services-verify-phone', { fullPage: false });

  // A made-up number is not found, and says so in Chinese.
  const fake = await visitor.goto('/verify/certificates/NOT-A-REAL-NUMBER-123');
  assert.ok([200, 404].includes(fake.status()));
  assert.match(await visitor.locator('.alert.error').innerText(), /未找到这份证明/);

  for (const p of [mine, desk, visitor]) assertNoProblems(p);
});
