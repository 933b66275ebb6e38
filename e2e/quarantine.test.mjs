// 隔离文件 (security.md AT-21): a minutes file the nightly virus rescan quarantined is refused to the secretary;
// the security administrator is reminded on her home page, finds the file on 系统 › 隔离文件 by its record, type,
// SHA-256 and signature — never its name — and, on a phone, releases it with a reason (an empty reason is
// explained in Chinese); the secretary can download it again.
//
// The quarantine itself is written into the database as the rescan writes it: the rescan against a real
// clamd is tested in the suite (crates/web/tests/it/clamd.rs), and this journey is about the pages.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setup, login, shot, PHONE, clickTo, submit, branchMemberAccount, assertNoProblems } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

const SIGNATURE = 'Win.Test.EICAR_HDB-1';

async function token(username) {
  const res = await fetch(`${env.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'Demo-Pass-2026!' }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

test('the security administrator releases a false positive with a reason on her phone', async () => {
  // The secretary's meeting with a minutes file whose name names a person.
  const member = await branchMemberAccount(env.url, 'quarantine_member');
  const sec = await token('secretary');
  const auth = { authorization: `Bearer ${sec}` };
  const made = await fetch(`${env.url}/api/v1/meetings`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ org_id: member.orgId, kind: 'committee', title: '11月支委会', held_on: '2026-11-10' }),
  });
  const madeText = await made.text();
  assert.equal(made.status, 201, madeText);
  const meeting = JSON.parse(madeText).id;
  const name = encodeURIComponent('王小明谈话记录.txt');
  const up = await fetch(`${env.url}/api/v1/meetings/${meeting}/attachments?name=${name}`, { method: 'POST', headers: auth, body: '谈话记录：学习党章第一章' });
  const upText = await up.text();
  assert.equal(up.status, 201, upText);
  const file = JSON.parse(upText).id;

  // The nightly rescan's verdict, as it records it.
  const db = path.join(env.server.dataDir, 'dangjian.db');
  execFileSync('python3', ['-c', `import sqlite3,sys
c = sqlite3.connect(sys.argv[1]); c.execute("UPDATE attachments SET quarantined_at = strftime('%Y-%m-%dT%H:%M:%fZ','now'), quarantine_signature = ? WHERE id = ?", (sys.argv[2], int(sys.argv[3]))); c.commit()`, db, SIGNATURE, String(file)]);
  const download = () => fetch(`${env.url}/api/v1/meetings/${meeting}/attachments/${file}`, { headers: auth });
  const refused = await download();
  assert.equal(refused.status, 403);
  assert.equal((await refused.json()).error.code, 'quarantined');

  // Her home page reminds the security administrator; the page lists the file without its name.
  const phone = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(phone, 'security');
  const reminder = phone.locator('#quarantine-alert');
  assert.match(await reminder.innerText(), /隔离文件（1）/);
  await clickTo(phone, reminder.locator('a', { hasText: '查看并处理' }), /\/admin\/quarantine$/);
  const main = await phone.locator('main').innerText();
  assert.match(main, /隔离中（1）/);
  assert.ok(main.includes(SIGNATURE) && main.includes(`会议纪要 #${meeting}`), main);
  assert.ok(!main.includes('王小明'), 'never the file name');
  const { scroll, client } = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `the page is ${scroll}px wide in a ${client}px screen`);
  await shot(phone, 'quarantine-phone-list');

  // 放行 without a reason: explained, nothing released.
  await phone.locator(`#release-${file} summary`).click();
  assert.equal(await submit(phone, phone.locator(`#release-${file} button[type=submit]`)), 422);
  assert.match(await phone.locator(`#e-reason-${file}`).innerText(), /请写明放行理由/);
  await shot(phone, 'quarantine-phone-reason-missing', { fullPage: false });
  await phone.fill(`#reason-${file}`, '经信息中心核实为误报，文件为谈话记录文本');
  assert.equal(await submit(phone, phone.locator(`#release-${file} button[type=submit]`)), 303);
  assert.match(await phone.locator('main .alert.ok').innerText(), /已放行该文件/);
  const after = await phone.locator('main').innerText();
  assert.match(after, /隔离中（0）/);
  assert.match(await phone.locator('#released').innerText(), /security[\s\S]*经信息中心核实为误报/);
  await shot(phone, 'quarantine-phone-released');
  assertNoProblems(phone);

  // The secretary downloads it again.
  const served = await download();
  assert.equal(served.status, 200);
  assert.equal(await served.text(), '谈话记录：学习党章第一章');
});
