// 学习教育: a document published as a PDF, read on a phone (issue 5, item 1: "documents (PDF uploads, viewed in
// the browser)"). The member finds the demo's PDF handout by a word that is only inside the PDF, opens it, and
// the page draws its pages with pdf.js (embedded, same origin, under the strict CSP) as wide as the phone; the
// download link serves the same file. The browser reports no error (a CSP refusal of the worker, a font or a
// CMap would fail the journey).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setup, login, shot, clickTo, assertNoProblems, PHONE } from './server.mjs';

let env;
before(async () => {
  env = await setup();
});
after(async () => {
  await env?.teardown();
});

test('a member finds a PDF document by a word inside it and reads it on her phone', { timeout: 120_000 }, async () => {
  const page = await env.page(PHONE, { isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await login(page, 'member');
  await page.goto('/learning');

  // 先锋模范 is written only inside the PDF, not in its title, description or tags.
  await page.fill('#learn-q', '先锋模范');
  await clickTo(page, page.locator('form.learn-search button'), /\/learning\?q=/);
  const hit = page.locator('ul.hits li a', { hasText: '党员教育管理工作条例》学习辅导' });
  assert.equal(await hit.count(), 1, 'the PDF document is found by a word inside it');
  await clickTo(page, hit.first(), /\/learning\/\d+$/);

  // pdf.js draws the pages: at least the first, as wide as the reading card, not blank.
  await page.locator('#pdf-viewer .pdf-page.drawn canvas').first().waitFor({ timeout: 30_000 });
  assert.match(await page.locator('#pdf-status').innerText(), /共\d+页/);
  const drawn = await page.locator('#pdf-viewer .pdf-page.drawn canvas').first().evaluate((c) => {
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 128 && data[i + 3] > 0) ink++;
    const box = c.getBoundingClientRect();
    return { ink, width: box.width };
  });
  assert.ok(drawn.ink > 500, `the first page has text drawn on it (${drawn.ink} dark pixels)`);
  const card = await page.locator('#reader').evaluate((e) => e.getBoundingClientRect().width);
  assert.ok(drawn.width > card - 60 && drawn.width <= card, `the page is as wide as the card (${drawn.width} of ${card})`);
  // The text layer: the PDF's words are on the page as (transparent) text over the drawing, so they can be
  // selected and copied; they lie inside the page and are not drawn a second time.
  const layer = page.locator('#pdf-viewer .pdf-page.drawn .textLayer').first();
  await layer.locator('span').first().waitFor({ timeout: 30_000 });
  const text = await layer.evaluate((l) => {
    const page = l.parentElement.getBoundingClientRect();
    const spans = [...l.querySelectorAll('span')].filter((s) => s.textContent.trim());
    const inside = spans.every((s) => {
      const r = s.getBoundingClientRect();
      return r.left >= page.left - 2 && r.right <= page.right + 2 && r.top >= page.top - 2 && r.bottom <= page.bottom + 2;
    });
    const sizes = spans.map((s) => s.getBoundingClientRect().height);
    return { text: l.textContent, inside, tallest: Math.max(...sizes), color: getComputedStyle(spans[0]).color };
  });
  assert.match(text.text.replace(/\s+/g, ''), /先锋模范/, 'the word found by the search is on the page as text');
  assert.ok(text.inside, 'every word lies on its page');
  assert.ok(text.tallest > 4 && text.tallest < 80, `words are sized to the page (${text.tallest}px)`);
  assert.equal(text.color, 'rgba(0, 0, 0, 0)', 'the text layer is transparent over the drawing');
  await layer.selectText();
  const selected = await page.evaluate(() => String(window.getSelection()).replace(/\s+/g, ''));
  assert.ok(selected.length > 10, `the page's text can be selected (${selected.length} characters)`);
  await shot(page, 'learning-pdf-phone', { fullPage: false });

  // The download serves the PDF itself.
  const href = await page.locator('a', { hasText: '下载PDF' }).getAttribute('href');
  const resp = await page.request.get(href);
  assert.equal(resp.status(), 200);
  assert.equal(resp.headers()['content-type'], 'application/pdf');
  assert.ok((await resp.body()).subarray(0, 5).toString() === '%PDF-');
  assertNoProblems(page);
});
