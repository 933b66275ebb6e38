// Staff add a person to a branch. A mistyped ID number (wrong GB 11643 check character) is refused with a
// Chinese message beside the field, the first field in error is focused and nothing typed is lost; once
// corrected the person is saved and shown with the ID number and phone masked.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, act, clickTo, submit, dd, idNumber, badChecksum, crumbs, assertNoProblems } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

const GOOD_ID = idNumber(123); // 1999-01-01, sequence 123: odd, so male
const BAD_ID = badChecksum(GOOD_ID);
const PERSON = {
  name: '端木新成',
  gender: 'male',
  birth_date: '1999-01-01',
  phone: '13912345678',
  stage: 'activist',
  category: 'student',
  ethnicity: '汉族',
  person_no: 'S2026E2E1',
  applied_on: '2025-03-01',
  activist_on: '2025-10-08',
};

test('staff create a person: a wrong check digit is explained, corrected and saved', async () => {
  const page = await env.page();
  await login(page, 'staff');

  // Into a branch through the tree, and 新增人员 from there: the branch is chosen already.
  await page.goto('/orgs');
  await clickTo(page, page.locator('ul.org-list a', { hasText: '二级党委' }).first(), /\/orgs\/\d+$/);
  await clickTo(page, page.locator('ul.org-list a', { hasText: '党支部' }).first(), /\/orgs\/\d+$/);
  const branchId = new URL(page.url()).pathname.split('/').pop();
  const branch = (await page.locator('main h1').innerText()).trim();
  await clickTo(page, page.locator('main a.button', { hasText: '新增人员' }), new RegExp(`/people/new\\?org_id=${branchId}$`));
  assert.equal(await page.locator('main h1').innerText(), '新增人员');
  assert.equal(await page.inputValue('#f-org_id'), branchId, 'the branch is preselected');
  assert.equal(await page.locator('#f-org_id option:checked').innerText(), branch);
  for (const name of ['name', 'gender', 'birth_date', 'id_number', 'org_id', 'stage', 'category']) {
    assert.equal(await page.locator(`label[for="f-${name}"] .req`).count(), 1, `${name} is marked required`);
  }

  await page.fill('#f-name', PERSON.name);
  await page.selectOption('#f-gender', PERSON.gender);
  await page.fill('#f-birth_date', PERSON.birth_date);
  await page.fill('#f-id_number', BAD_ID);
  await page.fill('#f-phone', PERSON.phone);
  await page.selectOption('#f-stage', PERSON.stage);
  await page.selectOption('#f-category', PERSON.category);
  await page.fill('#f-ethnicity', PERSON.ethnicity);
  await page.fill('#f-person_no', PERSON.person_no);
  await page.fill('#f-applied_on', PERSON.applied_on);
  await page.fill('#f-activist_on', PERSON.activist_on);

  const status = await submit(page, page.locator('main form.form button[type=submit]'));
  assert.equal(status, 422, 'the form is refused');
  assert.match(new URL(page.url()).pathname, /^\/people\/new$/);

  // The message sits beside the ID number field, in Chinese, and only there.
  const err = page.locator('#e-id_number');
  assert.ok(await err.isVisible(), 'the error is shown beside the field');
  const message = (await err.innerText()).trim();
  assert.match(message, /[\u4e00-\u9fff]/, `a Chinese message: ${message}`);
  assert.match(message, /身份|号码|校验/, `it is about the ID number: ${message}`);
  assert.equal(await page.locator('.field-error').count(), 1, 'no other field is in error');
  const field = page.locator('#f-id_number');
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  assert.equal(await field.getAttribute('aria-describedby'), 'e-id_number');
  assert.match(await page.locator('.field:has(#f-id_number)').getAttribute('class'), /\binvalid\b/);
  assert.match(await page.locator('main .alert.error').innerText(), /有1处需要修改/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-id_number', 'the field in error is focused');

  // Nothing typed is lost.
  assert.equal(await page.inputValue('#f-id_number'), BAD_ID);
  for (const [k, v] of Object.entries(PERSON)) {
    assert.equal(await page.inputValue(`#f-${k}`), v, `${k} kept`);
  }
  assert.equal(await page.inputValue('#f-org_id'), branchId, 'the branch kept');
  await shot(page, 'person-create-error', { fullPage: false });

  // Corrected, it saves and lands on the person's page.
  await page.fill('#f-id_number', GOOD_ID);
  await submit(page, page.locator('main form.form button[type=submit]'));
  assert.match(page.url(), /\/people\/\d+\?saved=1$/);
  const personPath = new URL(page.url()).pathname;
  assert.match(await page.locator('main .alert.ok').innerText(), /已保存/);
  assert.equal(await page.locator('main .alert.warn').count(), 0, 'no warning: the birth date matches the ID number');
  assert.equal((await page.locator('main h1').innerText()).trim(), PERSON.name);
  assert.equal((await crumbs(page)).at(-1), branch);
  const shownId = await dd(page, '公民身份号码');
  assert.ok(shownId.includes('****'), `masked: ${shownId}`);
  assert.notEqual(shownId, GOOD_ID);
  assert.ok(shownId.startsWith(GOOD_ID.slice(0, 6)) && shownId.endsWith(GOOD_ID.slice(-4)), `masked in the middle: ${shownId}`);
  const shownPhone = await dd(page, '联系电话');
  assert.ok(shownPhone.includes('****') && shownPhone !== PERSON.phone, `phone masked: ${shownPhone}`);
  assert.equal(await dd(page, '出生日期'), '1999年1月1日');
  assert.equal(await dd(page, '性别'), '男');
  assert.equal(await dd(page, '发展阶段'), '入党积极分子');
  assert.equal(await page.content().then((html) => html.includes(GOOD_ID)), false, 'the full ID number is nowhere in the page');
  await shot(page, 'person-create-saved');

  // The top search finds the new person by name.
  await page.fill('#top-q', PERSON.name);
  await act(page, () => page.press('#top-q', 'Enter'));
  assert.match(page.url(), /\/people\?q=/);
  const rows = page.locator('#rows tr', { has: page.locator('td[data-label="姓名"]', { hasText: PERSON.name }) });
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.locator('td[data-label="所在党组织"]').innerText(), branch);
  assert.equal(await rows.locator('td[data-label="姓名"] a').getAttribute('href'), personPath);

  // The same ID number cannot be entered twice.
  await page.goto(`/people/new?org_id=${branchId}`);
  await page.fill('#f-name', '重复录入');
  await page.selectOption('#f-gender', 'male');
  await page.fill('#f-birth_date', PERSON.birth_date);
  await page.fill('#f-id_number', GOOD_ID);
  await page.selectOption('#f-stage', 'applicant');
  await page.selectOption('#f-category', 'student');
  const again = await submit(page, page.locator('main form.form button[type=submit]'));
  assert.equal(again, 422, 'a second person with the same ID number is refused');
  assert.match(await page.locator('#e-id_number').innerText(), /[\u4e00-\u9fff]/);
  assertNoProblems(page);
});
