'use strict';
// Headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM) driven by
// playwright-core, for the tests that open pages in a real browser.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { withTimeout } = require('./stack');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// A browser context of its own (a fresh profile), closed when the test
// ends; every step waits at most step ms. options: viewport.
async function openBrowser(t, { step = 10000, viewport } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run make deps (Debian package chromium)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'signalr-e2e-chromium-'));
  t.after(() => fs.rmSync(userDataDir, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30000,
    ...(viewport ? { viewport } : {}),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(() => withTimeout(context.close(), 10000, 'chromium to close').catch(() => {
    const proc = context.browser()?.process?.();
    if (proc) proc.kill('SIGKILL');
  }));
  context.setDefaultTimeout(step);
  return context;
}

module.exports = { CHROMIUM, openBrowser };
