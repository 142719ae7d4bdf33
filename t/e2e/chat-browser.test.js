'use strict';
// The chat room of make run in a real browser: headless Chromium (Debian's
// /usr/bin/chromium) driven by playwright-core. Two pages exchange messages;
// one joins a group and receives a group message the other does not.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { ROOT, withTimeout } = require('./lib/stack');
const { startChat } = require('./lib/examples');
const { openBrowser } = require('./lib/browser');

const STEP = 10000;

async function openChat(context, url, name, problems) {
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`${name} console: ${m.text()}`); });
  await page.goto(url);
  await page.locator('#service[data-service=emulator]').waitFor();
  await page.fill('#name', name);
  await page.click('#connect');
  await page.locator('#status[data-state=connected]').waitFor();
  return page;
}

// types a message and sends it; the page empties the field once invoke()
// has resolved
async function say(page, text, button = '#send') {
  await page.fill('#text', text);
  await page.click(button);
  await page.waitForFunction(() => document.getElementById('text').value === '');
}

const message = (page, text) => page.locator('#messages li.message', { hasText: text });

test('two browsers chat through nginx; a group message reaches the member only', { timeout: 90000 }, async (t) => {
  const { nginx } = await startChat(t, 'chat-browser');
  const context = await openBrowser(t, { step: STEP });
  const problems = [];
  const url = `${nginx.url}/`;

  const alice = await openChat(context, url, 'alice', problems);
  const bob = await openChat(context, url, 'bob', problems);
  await alice.locator('#messages li.system', { hasText: 'bob joined' }).waitFor();

  // the page tells where the service is
  assert.match(await alice.textContent('#service'), /bundled SignalR Service emulator/);

  // everyone
  await say(alice, 'Hello from alice');
  await message(bob, 'Hello from alice').waitFor();
  await message(alice, 'Hello from alice').waitFor();
  assert.equal(await message(bob, 'Hello from alice').getAttribute('data-from'), 'alice');
  await bob.fill('#text', 'Hi alice');
  await bob.press('#text', 'Enter');
  await bob.waitForFunction(() => document.getElementById('text').value === '');
  await message(alice, 'Hi alice').waitFor();

  // bob joins room1; alice (not a member) writes to it
  await bob.fill('#group', 'room1');
  await bob.click('#join');
  await bob.locator('#messages li.system', { hasText: 'You joined group room1' }).waitFor();
  assert.match(await bob.textContent('#groups'), /room1/);
  await alice.fill('#group', 'room1');
  await say(alice, 'Only for room1', '#sendGroup');
  const groupMessage = message(bob, 'Only for room1');
  await groupMessage.waitFor();
  assert.equal(await groupMessage.getAttribute('data-group'), 'room1');
  assert.match(await groupMessage.textContent(), /^alice: Only for room1 \(room1\)$/);

  // a later broadcast reaches alice: had the group message been sent to
  // her, it would have arrived before it
  await say(bob, 'After the group message');
  await message(alice, 'After the group message').waitFor();
  assert.equal(await message(alice, 'Only for room1').count(), 0);

  // bob leaves; the next group message reaches nobody
  await bob.click('#leave');
  await bob.locator('#messages li.system', { hasText: 'You left group room1' }).waitFor();
  await say(alice, 'Room1 again', '#sendGroup');
  await say(alice, 'Final');
  await message(bob, 'Final').waitFor();
  assert.equal(await message(bob, 'Room1 again').count(), 0);
  assert.equal(await alice.locator('#messages li.error').count(), 0);

  const shot = path.join(ROOT, 'build', 'e2e', 'chat-browser.png');
  await bob.screenshot({ path: shot, fullPage: true });

  // bob disconnects: alice hears of it
  await bob.click('#disconnect');
  await bob.locator('#status[data-state=disconnected]').waitFor();
  await alice.locator('#messages li.system', { hasText: 'bob left' }).waitFor();

  assert.deepEqual([...problems], []);
  await withTimeout(context.close(), 10000, 'chromium to close');
});
