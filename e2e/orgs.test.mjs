// Staff browse the organization tree: the university, a college, a branch; the breadcrumb follows the
// tree, head counts agree between a parent's list and the child's own page, and the roster of a branch
// holds only that branch's people.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, crumbs, assertNoProblems } from './server.mjs';

let env;
before(async () => { env = await setup(); });
after(async () => { await env?.teardown(); });

/** The children listed on an organization page: [{ name, kind, count, link }]. */
async function children(page) {
  const items = page.locator('ul.org-list li a');
  const out = [];
  for (let i = 0; i < await items.count(); i++) {
    const a = items.nth(i);
    out.push({
      name: (await a.locator('.org-name').innerText()).trim(),
      kind: (await a.locator('.tag').innerText()).trim(),
      count: Number((await a.locator('.count').innerText()).replace(/\s*人$/, '')),
      link: a,
    });
  }
  return out;
}

async function total(page) {
  return Number(await page.locator('main section.card .card-head .big').innerText());
}

test('staff walk from the university to a college to a branch', async () => {
  const page = await env.page();
  await login(page, 'staff');
  await clickTo(page, page.locator('nav.sidenav a[href="/orgs"]'), /\/orgs\/\d+$/);

  // Staff hold one top organization, so /orgs opens it directly.
  const university = (await page.locator('main h1').innerText()).trim();
  assert.match(university, /大学党委$/);
  assert.deepEqual(await crumbs(page), ['组织']);
  const universityTotal = await total(page);
  const top = await children(page);
  assert.equal(top.reduce((s, c) => s + c.count, 0), universityTotal, 'the children add up to the university');
  const colleges = top.filter((c) => c.kind === '二级党委');
  assert.ok(colleges.length >= 2, `several colleges: ${top.map((c) => `${c.name} ${c.kind}`)}`);

  const college = colleges[0];
  await clickTo(page, college.link, /\/orgs\/\d+$/);
  const collegeUrl = page.url();
  assert.equal((await page.locator('main h1').innerText()).trim(), college.name);
  assert.deepEqual(await crumbs(page), ['组织', university]);
  assert.equal(await total(page), college.count, 'the college page agrees with the count in the list');
  const branches = await children(page);
  assert.ok(branches.length >= 1);
  assert.ok(branches.every((b) => b.kind === '党支部'), `branches: ${branches.map((b) => b.kind)}`);

  const branch = branches[0];
  await clickTo(page, branch.link, /\/orgs\/\d+$/);
  const branchId = new URL(page.url()).pathname.split('/').pop();
  assert.equal((await page.locator('main h1').innerText()).trim(), branch.name);
  assert.deepEqual(await crumbs(page), ['组织', university, college.name]);
  assert.equal(await total(page), branch.count);
  assert.match(await page.locator('main .empty').innerText(), /暂无下级组织/);
  await shot(page, 'orgs-branch');

  // The branch's roster: only its own people, as many as counted.
  await clickTo(page, page.locator('main a.button', { hasText: '人员名册' }), new RegExp(`/people\\?org_id=${branchId}$`));
  assert.match(await page.locator('.page-head p').innerText(), new RegExp(`共 ${branch.count} 人`));
  const orgNames = new Set(await page.locator('td[data-label="所在党组织"]').allInnerTexts());
  assert.deepEqual([...orgNames], [branch.name]);

  // Back up the tree through the breadcrumb.
  await page.goBack();
  await page.locator('main h1', { hasText: branch.name }).waitFor();
  await clickTo(page, page.locator('nav.crumbs a', { hasText: college.name }), /\/orgs\/\d+$/);
  assert.equal(page.url(), collegeUrl);
  assert.equal((await page.locator('main h1').innerText()).trim(), college.name);
  assertNoProblems(page);
});

test('a college staff member starts at her college and cannot open another college', async () => {
  const page = await env.page();
  await login(page, 'college');
  await page.goto('/orgs');
  const name = (await page.locator('main h1').innerText()).trim();
  assert.match(name, /学院党委$/);
  const mine = new URL(page.url()).pathname;
  const staff = await env.page();
  await login(staff, 'staff');
  await staff.goto('/orgs');
  const others = (await children(staff)).filter((c) => c.name !== name);
  assert.ok(others.length >= 1);
  await clickTo(staff, others[0].link, /\/orgs\/\d+$/);
  const otherPath = new URL(staff.url()).pathname;
  assert.notEqual(otherPath, mine);
  const res = await page.goto(otherPath);
  assert.equal(res.status(), 404, 'another college is not found for her');
  assert.match(await page.locator('h1').innerText(), /未找到/);
});
