// QR sign-in at a branch meeting: the secretary puts the meeting's sign-in screen on the projector from the
// meeting page, a member opens the screen's sign-in address on her 390 px phone and presses 确认签到 once;
// the screen's count and the secretary's sign-in sheet show her present, and a second sign-in is refused
// politely (recorded once, no error).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, api, assertNoProblems, branchMemberAccount, beijingToday, PHONE } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

/** Presses the sign-in page's one button (a plain form, no htmx) and waits for the answer page. */
async function pressCheckIn(page) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.startsWith('/checkin/')),
    page.click('#checkin-button'),
  ]);
  await page.waitForLoadState('load');
  await page.locator('#checkin-result').waitFor();
  return res.status();
}

test('a member signs in to today\'s branch meeting by the projector\'s QR address, once', async () => {
  const member = await branchMemberAccount(env.url, 'checkin_member');
  const secretaryApi = await api(env.url, 'secretary');
  const created = await secretaryApi('POST', '/api/v1/meetings', {
    org_id: member.orgId,
    kind: 'branch_assembly',
    title: '11月支部党员大会：扫码签到演练',
    held_on: beijingToday(),
    start_time: '14:30',
    place: '学院楼301会议室',
  });
  assert.equal(created.status, 201, created.text);
  const meetingId = created.json.id;
  const meeting = (await secretaryApi('GET', `/api/v1/meetings/${meetingId}`)).json;
  assert.ok(meeting.attendees.some((a) => a.person_id === member.personId), 'the branch\'s members are invited by default');

  // The secretary opens the meeting on her desktop and puts the sign-in screen on the projector (a new tab).
  const desk = await env.page();
  await login(desk, 'secretary');
  await desk.goto(`/meetings/${meetingId}`);
  const [screen] = await Promise.all([
    desk.context().waitForEvent('page'),
    desk.click('main a.button:text-is("扫码签到（投屏）")'),
  ]);
  await screen.waitForLoadState('load');
  assert.match(new URL(screen.url()).pathname, new RegExp(`^/meetings/${meetingId}/checkin$`));
  assert.equal(await screen.locator('h1').innerText(), '11月支部党员大会：扫码签到演练');
  assert.equal(await screen.locator('#checkin-qr svg').count(), 1, 'the screen shows a QR code');
  assert.equal(await screen.locator('#present').innerText(), '0');
  const signInUrl = await screen.locator('#checkin-link').getAttribute('href');
  assert.match(signInUrl, new RegExp(`/checkin/${meetingId}\\?t=`));
  await shot(screen, 'checkin-screen-desktop', { fullPage: false });

  // The member opens the address from the screen on her phone (what the QR code holds) and signs in.
  const phone = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(phone, member.username, member.password);
  await phone.goto(signInUrl);
  assert.equal(await phone.locator('.login-brand p').innerText(), '11月支部党员大会：扫码签到演练');
  const button = phone.locator('#checkin-button');
  assert.ok(await button.isVisible());
  const box = await button.boundingBox();
  assert.ok(box.width >= 300 && box.height >= 40, `the button is thumb-sized on a phone: ${JSON.stringify(box)}`);
  await shot(phone, 'checkin-phone-confirm', { fullPage: false });
  assert.equal(await pressCheckIn(phone), 200);
  assert.equal(await phone.locator('#checkin-result').innerText(), '签到成功');
  await shot(phone, 'checkin-phone-done', { fullPage: false });

  // Her meeting page says she was present.
  await clickTo(phone, phone.locator('a.button:text-is("查看会议")'), new RegExp(`/meetings/${meetingId}$`));
  assert.match(await phone.locator('main').innerText(), /您的出勤：\s*出席/);
  const { scroll, client } = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `the meeting page is ${scroll}px wide in a ${client}px screen`);

  // The projector's next code counts her; the secretary's sign-in sheet has her present.
  await screen.reload();
  assert.equal(await screen.locator('#present').innerText(), '1');
  const freshUrl = await screen.locator('#checkin-link').getAttribute('href');
  await desk.reload();
  assert.equal(await desk.inputValue(`#s-${member.personId}`), 'present');
  assert.equal(await desk.locator('.stat.lead .stat-n').innerText(), '1');
  await shot(desk, 'checkin-meeting-desktop');

  // A second sign-in, with the screen's newer code: recorded once, answered kindly, not an error.
  await phone.goto(freshUrl);
  assert.equal(await pressCheckIn(phone), 200);
  assert.equal(await phone.locator('#checkin-result').innerText(), '您已签到，无需重复签到');
  assert.ok(await phone.locator('.alert.ok').isVisible(), 'shown as information, not as an error');
  await shot(phone, 'checkin-phone-again', { fullPage: false });
  const after = (await secretaryApi('GET', `/api/v1/meetings/${meetingId}`)).json;
  assert.equal(after.attendees.filter((a) => a.attendance === 'present').length, 1);

  // A made-up code is refused with the reason, in Chinese.
  await phone.goto(`/checkin/${meetingId}?t=1.abc`);
  assert.equal(await pressCheckIn(phone), 409);
  assert.match(await phone.locator('#checkin-result').innerText(), /二维码已过期或无效/);

  for (const p of [desk, phone]) assertNoProblems(p);
});
