'use strict';
// Refusals end to end: a connect route answering 403 closes the client's
// connection; the trigger refuses upstream calls signed with a key nginx
// does not know, so the emulator closes the connection too.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator, startNginx, freePort, withTimeout, sleep, EMULATOR_KEY } = require('./lib/stack');
const { connect, WAIT } = require('./lib/clients');
const { routes } = require('./lib/confs');

const OTHER_KEY = 'a-key-that-nginx-does-not-know-0123456789AB';

async function stack(t, name, emulatorOptions = {}) {
  const port = await freePort();
  const emulator = await startEmulator(t, {
    name, upstream: `http://127.0.0.1:${port}/runtime/webhooks/signalr`, ...emulatorOptions,
  });
  // nginx knows only the emulator's first key
  const cs = `Endpoint=http://127.0.0.1;Port=${emulator.port};AccessKey=${EMULATOR_KEY};Version=1.0;`;
  const nginx = await startNginx(t, { name, port, conf: routes(emulator.url), env: { AzureSignalRConnectionString: cs } });
  return { emulator, nginx, api: `${nginx.url}/api` };
}

// The client may see its start() resolve (the handshake completes before
// the service hears the app's answer) and then be closed, or fail to start.
async function refused(t, api, options) {
  let client;
  try {
    client = await connect(t, api, options);
  } catch (e) {
    return e;
  }
  const error = await client.waitClosed(WAIT);
  // and it cannot invoke anything any more
  await assert.rejects(withTimeout(client.connection.invoke('echo', 1), WAIT, 'invoke after close'));
  return error;
}

async function upstreamEntries(emulator, event, predicate = () => true, ms = WAIT) {
  const deadline = Date.now() + ms;
  for (;;) {
    const entries = (await emulator.log()).filter((e) => e.kind === 'upstream'
      && e.headers['X-ASRS-Event'] === event && e.status !== undefined && predicate(e));
    if (entries.length > 0 || Date.now() > deadline) return entries;
    await sleep(50);
  }
}

test('a connected route answering 403 refuses the connection', { timeout: 60000 }, async (t) => {
  const { emulator, api } = await stack(t, 'refuse-403');
  const error = await refused(t, api, { user: 'mallory' });
  assert.match(String(error.message || error), /refused/i);
  const entries = await upstreamEntries(emulator, 'connected', (e) => e.headers['X-ASRS-User-Id'] === 'mallory');
  assert.equal(entries.length, 1);
  assert.equal(entries[0].status, 403);

  // others are welcome, on the same nginx
  const alice = await connect(t, api, { user: 'alice' });
  assert.deepEqual(await alice.invoke('echo', 'ok'), ['ok']);
  await sleep(200);
  assert.equal(alice.closed, null);
});

test('the trigger refuses an emulator that signs with another key', { timeout: 60000 }, async (t) => {
  // the emulator accepts client tokens signed with either key, but signs
  // its upstream calls with the second one only
  const { emulator, nginx, api } = await stack(t, 'refuse-key', { key2: OTHER_KEY, upstreamKeyMode: 'key2' });
  const error = await refused(t, api, { user: 'alice' });
  assert.match(String(error.message || error), /refused/i);
  const entries = await upstreamEntries(emulator, 'connected');
  assert.equal(entries.length, 1);
  assert.equal(entries[0].status, 401);
  assert.deepEqual(JSON.parse(entries[0].response), { error: 'invalid or missing X-ASRS-Signature' });
  assert.match(nginx.errorLog(), /X-ASRS-Signature that matches no signalr_endpoint key refused/);
  assert.ok(!nginx.errorLog().includes(OTHER_KEY) && !nginx.errorLog().includes(EMULATOR_KEY), 'no key in the log');
});

test('the trigger accepts an emulator that signs with both keys when it knows one', { timeout: 60000 }, async (t) => {
  const { emulator, api } = await stack(t, 'accept-key', { key2: OTHER_KEY, upstreamKeyMode: 'both' });
  const alice = await connect(t, api, { user: 'alice' });
  assert.deepEqual(await alice.invoke('echo', 'rotation'), ['rotation']);
  const entries = await upstreamEntries(emulator, 'connected');
  assert.equal(entries[0].status, 200);
  assert.match(entries[0].headers['X-ASRS-Signature'], /^sha256=[0-9A-F]{64},sha256=[0-9A-F]{64}$/);
});
