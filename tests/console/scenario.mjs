// The moderator's part of the scenario (scenario.sh did the rest
// through the real `ward` command): log in to the console, find the
// minor's report at the top of the queue, see it verified with the
// revealed text and the image, ban the adult, and see the audit entry.
import { env, check, login, runBrowserTest } from './browser.mjs';

const base = env('WARD_URL');
const reportId = env('REPORT_ID');
await runBrowserTest('scenario (console)', async (browser) => {
  const page = await (await browser.newContext()).newPage();
  await login(page, base + '/console/',
    { name: env('MOD_NAME'), password: env('MOD_PASSWORD') });

  // The minor's report leads the queue, high priority.
  await page.waitForSelector('#queue-table tbody tr');
  const first = await page.$eval('#queue-table tbody tr', (r) => [r.dataset.id, r.textContent]);
  check(first[0] === reportId, 'the report leads the queue: ' + first[0]);
  check(first[1].includes('high') && first[1].includes('grooming'), 'high priority, grooming: ' + first[1]);

  await page.click(`#queue-table tbody tr[data-id="${reportId}"]`);
  await page.waitForSelector('#report-view:not([hidden])');
  await page.waitForFunction(() => document.getElementById('report-body').textContent.length > 0);
  check((await page.textContent('#report-body')).includes('our secret'), 'the revealed text');
  check((await page.textContent('#report-facts')).includes('verified'), 'shown as verified');
  const people = await page.textContent('#report-people');
  check(people.includes('adam') && people.includes('mia'), 'sender and reporter: ' + people);
  check(people.includes('adult') && people.includes('minor'), 'with their age bands: ' + people);
  await page.waitForFunction(() => {
    const img = document.getElementById('evidence-img');
    return img && img.complete && img.naturalWidth > 0;
  }, null, { timeout: 10000 });
  const size = await page.$eval('#evidence-img', (i) => [i.naturalWidth, i.naturalHeight]);
  check(size[0] === 3 && size[1] === 2, 'the image the adult sent (3x2): ' + size);

  await page.selectOption('#decision-action', 'ban');
  await page.fill('#decision-note', 'asked a minor for photos');
  await page.click('#decision-submit');
  await page.waitForFunction(() => document.getElementById('decision-result').textContent.startsWith('Recorded'));
  check((await page.textContent('#report-people')).includes('banned'), 'the adult is shown banned');

  await page.click('#nav-audit');
  await page.waitForSelector('#audit-table tbody tr[data-action="decision"]');
  const entry = await page.textContent('#audit-table tbody tr[data-action="decision"]');
  check(entry.includes('ban') && entry.includes(reportId), 'the audit entry: ' + entry);
});
