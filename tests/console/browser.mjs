// What the console's browser tests (e2e.mjs, scenario.mjs) share: their
// settings from the environment, the tally of checks, headless Chromium
// and the login form. node_env.sh copies it beside them.
import { chromium } from 'playwright-core';

// A setting the shell script passed; a missing one is the script's bug.
export function env(k) {
  const v = process.env[k];
  if (!v) throw new Error('missing ' + k);
  return v;
}

let passes = 0;
let failures = 0;
export function check(cond, what) {
  if (cond) {
    passes++;
  } else {
    failures++;
    console.log('FAIL: ' + what);
  }
}

// Logs in with the console's form at |url| (the page, or /console for
// its redirect too) and waits for the queue.
export async function login(page, url, who) {
  await page.goto(url);
  await page.waitForSelector('#login-view:not([hidden])');
  await page.fill('#login-name', who.name);
  await page.fill('#login-password', who.password);
  await page.click('#login-submit');
  await page.waitForSelector('#queue-view:not([hidden])', { timeout: 10000 });
}

// Runs |steps| with a headless Chromium (Debian's, or $CHROMIUM), counts
// an exception as a failure, closes the browser, prints the tally under
// |name| and exits 1 if anything failed.
export async function runBrowserTest(name, steps) {
  // playwright starts Chromium with a fresh, empty profile of its own (the
  // same as --user-data-dir on a new directory) and deletes it at close.
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
    timeout: 30000,
  });
  try {
    await steps(browser);
  } catch (e) {
    failures++;
    console.log('FAIL: ' + (e && e.stack ? e.stack : e));
  } finally {
    await browser.close();
  }
  console.log(`${name}: ${passes} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}
