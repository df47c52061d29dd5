// The moderation console in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core), against a real `ward serve` that run.sh
// started and seeded. Every step checks what a moderator would see, and
// what the server did.
import { env, check, login as loginAt, runBrowserTest } from './browser.mjs';

const base = env('WARD_URL');
const admin = { name: env('ADMIN_NAME'), password: env('ADMIN_PASSWORD') };
const mod = { name: env('MOD_NAME'), password: env('MOD_PASSWORD') };
const reportId = env('REPORT_ID');
const otherReportId = env('OTHER_REPORT_ID');
const senderToken = env('SENDER_TOKEN');

async function login(page, who) {
  await loginAt(page, base + '/console', who); // the redirect to /console/ too
}

await runBrowserTest('console_e2e', async (browser) => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const cspErrors = [];
  // Refusals the test provokes (401 before login, 403 for the forged
  // POST) log as failed loads; a CSP violation or a script error is what
  // must not happen.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content.Security.Policy|Refused to/i.test(m.text())) cspErrors.push(m.text());
  });
  page.on('pageerror', (e) => cspErrors.push(String(e)));

  // ---- an admin logs in ----
  await login(page, admin);
  check(page.url().endsWith('/console/#/queue'), 'landed on the queue: ' + page.url());
  check((await page.textContent('#whoami')).includes(admin.name + ' (admin)'), 'whoami shows the admin');
  const cookies = await ctx.cookies();
  const c = cookies.find((k) => k.name === 'ward_console');
  check(c && c.httpOnly === true, 'the session cookie is HttpOnly');
  check(c && c.sameSite === 'Strict', 'the session cookie is SameSite=Strict');
  check(c && c.path === '/console', 'the session cookie is for /console only');
  check(!(await page.evaluate(() => document.cookie)).includes('ward_console'),
    'page script cannot read the session cookie');
  check(await page.isVisible('#nav-admin'), 'an admin sees the Admin link');

  // ---- the queue and its filters ----
  const rowIds = async () => page.$$eval('#queue-table tbody tr', (rs) => rs.map((r) => r.dataset.id));
  await page.waitForSelector('#queue-table tbody tr');
  let ids = await rowIds();
  check(ids.includes(reportId) && ids.includes(otherReportId), 'both reports are queued: ' + ids);
  await page.selectOption('#filter-reason', 'spam');
  await page.waitForFunction((id) => {
    const rows = [...document.querySelectorAll('#queue-table tbody tr')];
    return rows.length > 0 && rows.every((r) => r.dataset.id === id);
  }, otherReportId);
  ids = await rowIds();
  check(ids.length === 1 && ids[0] === otherReportId, 'reason=spam shows only the spam report: ' + ids);
  await page.selectOption('#filter-reason', 'grooming');
  await page.waitForFunction((id) => {
    const rows = [...document.querySelectorAll('#queue-table tbody tr')];
    return rows.length === 1 && rows[0].dataset.id === id;
  }, reportId);
  check((await page.textContent('#queue-table tbody tr')).includes('high'), 'the grooming report is high priority');

  // ---- the report's page, with its image ----
  await page.click(`#queue-table tbody tr[data-id="${reportId}"]`);
  await page.waitForSelector('#report-view:not([hidden])');
  await page.waitForFunction(() => document.getElementById('report-body').textContent.length > 0);
  check((await page.textContent('#report-body')).includes('send me a photo'), 'the revealed text is shown');
  check((await page.textContent('#report-facts')).includes('verified'), 'the verification result is shown');
  check((await page.textContent('#report-people')).includes('minor'), 'the reporter\'s age band is shown');
  await page.waitForFunction(() => {
    const img = document.getElementById('evidence-img');
    return img.complete && img.naturalWidth > 0;
  }, null, { timeout: 10000 });
  const size = await page.$eval('#evidence-img', (i) => [i.naturalWidth, i.naturalHeight]);
  check(size[0] === 8 && size[1] === 6, 'the evidence image decoded (8x6): ' + size);

  // ---- ban the sender ----
  await page.selectOption('#decision-action', 'ban');
  await page.fill('#decision-note', 'grooming a minor');
  await page.click('#decision-submit');
  await page.waitForFunction(() => document.getElementById('decision-result').textContent.startsWith('Recorded'));
  check((await page.textContent('#decision-result')).includes('ban'), 'the ban is recorded');
  check((await page.textContent('#report-people')).includes('banned'), 'the page shows the subject banned');
  // the API agrees: the sender's own token is refused now
  const r = await fetch(base + '/v1/messages', { headers: { Authorization: 'Bearer ' + senderToken } });
  const body = await r.text();
  check(r.status === 403 && body.includes('account_banned'), 'the sender gets 403 account_banned: ' + r.status + ' ' + body);

  // ---- the audit entry ----
  await page.click('#nav-audit');
  await page.waitForSelector('#audit-view:not([hidden])');
  await page.waitForSelector('#audit-table tbody tr[data-action="decision"]');
  const decision = await page.textContent('#audit-table tbody tr[data-action="decision"]');
  check(decision.includes(admin.name) && decision.includes('ban: grooming a minor') && decision.includes(reportId),
    'the audit log shows the ban: ' + decision);
  check(await page.isVisible('#audit-table tbody tr[data-action="view_evidence"]'), 'viewing the image was audited');
  await page.click('#audit-verify');
  await page.waitForFunction(() => document.getElementById('audit-verify-result').textContent !== '');
  check((await page.textContent('#audit-verify-result')) === 'intact', 'the audit chain verifies');

  // ---- CSRF: a POST without the token is refused and changes nothing ----
  const forged = await page.evaluate(async (id) => {
    const res = await fetch('api/reports/' + id + '/decision', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ action: 'ban' }),
    });
    const after = await (await fetch('api/reports/' + id)).json();
    return { status: res.status, body: await res.text(), state: after.status, subject: after.subject.account.status };
  }, otherReportId);
  check(forged.status === 403 && forged.body.includes('csrf'), 'a POST without X-CSRF-Token is 403 csrf: ' + forged.status);
  check(forged.state === 'open' && forged.subject === 'active', 'and changed nothing: ' + JSON.stringify(forged));

  check(cspErrors.length === 0, 'no errors in the page (CSP included): ' + cspErrors.join(' | '));
  await page.click('#logout');
  await page.waitForSelector('#login-view:not([hidden])');
  const meAfter = await page.evaluate(async () => (await fetch('api/me')).status);
  check(meAfter === 401, 'logged out: me is 401 (' + meAfter + ')');
  await ctx.close();

  // ---- a moderator: no admin controls, and the admin API refuses ----
  const ctx2 = await browser.newContext();
  const p2 = await ctx2.newPage();
  await login(p2, mod);
  check((await p2.textContent('#whoami')).includes('(moderator)'), 'whoami shows the moderator');
  check((await p2.$('#nav-admin')) === null, 'a moderator has no Admin link');
  await p2.goto(base + '/console/#/admin');
  await p2.waitForSelector('#queue-view:not([hidden])');
  check(!(await p2.isVisible('#admin-view')), 'the admin view does not open for a moderator');
  const refused = await p2.evaluate(async () => {
    const me = await (await fetch('api/me')).json();
    const h = { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf };
    const list = await fetch('api/moderators');
    const add = await fetch('api/moderators', {
      method: 'POST', headers: h,
      body: JSON.stringify({ name: 'mallory', password: 'a long password!', role: 'admin' }),
    });
    const lift = await fetch('api/accounts/1/status', {
      method: 'POST', headers: h, body: JSON.stringify({ status: 'active' }),
    });
    return [list.status, add.status, lift.status, await add.text()];
  });
  check(refused[0] === 403 && refused[1] === 403 && refused[2] === 403,
    'the admin API refuses a moderator: ' + refused.join(' '));
  await ctx2.close();
});
