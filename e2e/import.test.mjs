// Staff import a small register file as a job: the upload shows the job's page, whose progress (polled by
// htmx) reaches 检查通过 without writing anything; 确认导入 runs the real import and the page reaches 已完成
// with the count, and the people are in the register. A file with one bad row (a wrong ID check character)
// shows that row's error in Chinese and offers no confirm. Screenshots at 1440 and 390 px.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, act, submit, idNumber, badChecksum, assertNoProblems, PHONE } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

const BRANCH = '马克思主义2022级本科生第1党支部';
const HEAD = '姓名,公民身份号码,所在党支部,人员类别,申请入党日期,联系电话';
const row = (name, id) => `${name},${id},${BRANCH},入党申请人,2025-09-01,139${String(id).slice(-8).replace(/X/g, '0')}`;

function csv(rows) {
  return Buffer.from([HEAD, ...rows].join('\n') + '\n', 'utf8');
}

/** Uploads `buffer` as NAME on the import page; returns the job page's path. */
async function upload(page, name, buffer) {
  await page.goto('/people/import');
  await page.setInputFiles('#f-file', { name, mimeType: 'text/csv', buffer });
  const status = await submit(page, page.locator('main form.form button[type=submit]'));
  assert.ok(status === 303 || status === 200, `upload answered ${status}`);
  assert.match(new URL(page.url()).pathname, /^\/people\/import\/\d+$/);
  return new URL(page.url()).pathname;
}

/** Waits until the job's status heading (updated by htmx polling) shows one of `labels`. */
async function waitStatus(page, labels, timeout = 30_000) {
  const heading = page.locator('#job .card-head h2');
  const deadline = Date.now() + timeout;
  for (;;) {
    const text = (await heading.innerText().catch(() => '')).trim();
    if (labels.some((l) => text.includes(l))) return text;
    if (Date.now() > deadline) throw new Error(`the job did not reach ${labels.join('/')} within ${timeout} ms (shows: ${text})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('staff import a checked file: 检查通过, confirm, 已完成 with the count', async () => {
  const page = await env.page();
  await login(page, 'staff');
  await page.goto('/people/import');
  assert.equal((await page.locator('main h1').innerText()).trim(), '导入花名册');
  await shot(page, 'import-form-desktop');

  const people = [['导入甲', idNumber(701)], ['导入乙', idNumber(702)], ['导入丙', idNumber(703)]];
  await upload(page, '三人名册.csv', csv(people.map(([n, id]) => row(n, id))));
  assert.match(await page.locator('main h1').innerText(), /三人名册\.csv/);

  // The check runs in the background; the page polls until the report is there.
  assert.match(await waitStatus(page, ['检查通过', '未通过']), /检查通过/);
  await page.locator('#job .alert.ok', { hasText: '检查通过' }).waitFor();
  assert.match(await page.locator('#job').innerText(), /共\s*3\s*行：无错误\s*3\s*行/);
  const confirm = page.locator('#job button', { hasText: '确认导入' });
  assert.equal((await confirm.innerText()).trim(), '确认导入 3 人');
  await shot(page, 'import-checked-desktop');

  // Nothing was written by the check.
  await page.goto('/people?q=导入甲');
  assert.equal(await page.locator('main').getByText('导入甲').count(), 0, 'the check wrote nothing');
  await page.goBack();
  await page.locator('#job button', { hasText: '确认导入' }).waitFor();

  await submit(page, page.locator('#job button', { hasText: '确认导入' }));
  assert.match(await waitStatus(page, ['已完成', '未通过']), /已完成/);
  const done = page.locator('#job .alert.ok', { hasText: '已导入' });
  await done.waitFor();
  assert.match(await done.innerText(), /已导入 3 人/);
  assert.equal(await page.locator('#job button', { hasText: '确认导入' }).count(), 0, 'no second confirm');
  await shot(page, 'import-done-desktop');

  // The people are in the register now, and the job is listed as done.
  await page.goto('/people?q=导入乙');
  assert.ok(await page.locator('main').getByText('导入乙').count() > 0, 'the imported person is in the register');
  await page.goto('/people/import');
  const line = page.locator('#jobs tbody tr', { hasText: '三人名册.csv' });
  assert.match(await line.innerText(), /已完成/);
  assert.match(await line.innerText(), /已导入 3 人/);
  assertNoProblems(page);
});

test('a file with one bad row shows the row error in Chinese and offers no confirm', async () => {
  const page = await env.page();
  await login(page, 'staff');
  const rows = [row('检查甲', idNumber(711)), row('检查乙', badChecksum(idNumber(712))), row('检查丙', idNumber(713))];
  await upload(page, '有错一行.csv', csv(rows));
  assert.match(await waitStatus(page, ['未通过', '检查通过']), /未通过/);
  const job = page.locator('#job');
  await job.locator('table tbody tr').first().waitFor();
  assert.match(await job.innerText(), /错误\s*1\s*行/);
  const errors = job.locator('h3:has-text("错误") + table tbody tr');
  assert.equal(await errors.count(), 1, `one finding for one typo: ${await job.innerText()}`);
  for (const t of await errors.allInnerTexts()) assert.match(t, /第3行[\s\S]*检查乙/, `every error is on the bad row (row 3 after the header): ${t}`);
  const idError = errors.filter({ has: page.locator('td[data-label="列"]', { hasText: '公民身份号码' }) });
  assert.equal(await idError.count(), 1, `the ID number's error is listed: ${await job.innerText()}`);
  const message = (await idError.locator('td[data-label="说明"]').innerText()).trim();
  assert.match(message, /[\u4e00-\u9fff]/, `a Chinese message: ${message}`);
  assert.match(message, /校验位/, `about the check character: ${message}`);
  assert.equal(await job.locator('button', { hasText: '确认导入' }).count(), 0, 'confirm is not offered');
  assert.equal(await job.locator('.alert.ok', { hasText: '检查通过' }).count(), 0);
  await shot(page, 'import-error-desktop');

  // The same on a phone: the report is readable at 390 px and nothing overflows sideways.
  const phone = await env.page(PHONE);
  await login(phone, 'staff');
  await phone.goto(new URL(page.url()).pathname);
  await phone.locator('#job table tbody tr').first().waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scroll on a phone (overflow ${overflow}px)`);
  await shot(phone, 'import-error-phone');
  await phone.goto('/people/import');
  const overflow2 = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow2 <= 0, `the import page fits a phone (overflow ${overflow2}px)`);
  await shot(phone, 'import-form-phone');
  assertNoProblems(page);
  assertNoProblems(phone);
});
