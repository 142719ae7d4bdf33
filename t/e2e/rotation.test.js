'use strict';
// Key rotation as docs/trigger.md describes it, against an emulator that has
// two keys: two signalr_endpoint lines for the one service are one endpoint
// with two keys. Negotiate signs with the first line's key, upstream calls
// signed with either key are accepted, and every message reaches each client
// exactly once, before and after the lines are swapped by a reload.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startEmulator, startNginx, freePort, fetchWithTimeout } = require('./lib/stack');
const { connect } = require('./lib/clients');
const { routes } = require('./lib/confs');

const KEY1 = 'rotation-key-one-0123456789abcdefghijklmnop';
const KEY2 = 'rotation-key-two-0123456789abcdefghijklmnop';

// the routes of t/e2e/lib/confs.js with the service's keys in that order
const withKeys = (emulatorUrl, first, second) => (port) => routes(emulatorUrl)(port).replace(
  'signalr_endpoint env:AzureSignalRConnectionString rest=/_signalr/;',
  `signalr_endpoint env:${first} name=service rest=/_signalr/;\n    signalr_endpoint env:${second};`);

async function signedWith(nginx) {
  const res = await fetchWithTimeout(`${nginx.url}/api/negotiate?user=probe`, { method: 'POST' });
  assert.equal(res.status, 200);
  const [header, payload, signature] = (await res.json()).accessToken.split('.');
  for (const [name, key] of [['KEY1', KEY1], ['KEY2', KEY2]]) {
    const mac = crypto.createHmac('sha256', key).update(`${header}.${payload}`).digest('base64url');
    if (mac === signature) return name;
  }
  return 'no key';
}

let markers = 0;
async function settle(sender, clients) {
  const marker = `marker-${++markers}`;
  await sender.invoke('broadcast', marker);
  await Promise.all(clients.map((c) => c.waitFor((m) => m.args[0] === marker, marker)));
}

const got = (client) => client.texts().filter((args) => !String(args[0]).startsWith('marker-'));

for (const upstreamKeyMode of ['both', 'key2']) {
  test(`key rotation, the service signing upstream calls with ${upstreamKeyMode === 'both' ? 'both keys' : 'its second key only'}`, { timeout: 60000 }, async (t) => {
    const port = await freePort();
    const emulator = await startEmulator(t, {
      name: `rotation-${upstreamKeyMode}`, key: KEY1, key2: KEY2, upstreamKeyMode,
      upstream: `http://127.0.0.1:${port}/runtime/webhooks/signalr`,
    });
    const cs = (key) => emulator.connectionString.replace(/AccessKey=[^;]+/, `AccessKey=${key}`);
    const nginx = await startNginx(t, {
      name: `rotation-${upstreamKeyMode}`, port, conf: withKeys(emulator.url, 'CS_KEY1', 'CS_KEY2'),
      env: { CS_KEY1: cs(KEY1), CS_KEY2: cs(KEY2) },
    });
    const api = `${nginx.url}/api`;

    assert.equal(await signedWith(nginx), 'KEY1', 'the first line signs');
    const alice = await connect(t, api, { user: 'alice' });
    const bob = await connect(t, api, { user: 'bob' });
    await alice.invoke('broadcast', 'before');
    await settle(alice, [alice, bob]);

    // the keys swapped, as in step 1 of the procedure
    await nginx.reload(withKeys(emulator.url, 'CS_KEY2', 'CS_KEY1'));
    assert.equal(await signedWith(nginx), 'KEY2', 'after the reload, the other key signs');
    const carol = await connect(t, api, { user: 'carol' });
    await bob.invoke('broadcast', 'after');
    await settle(bob, [alice, bob, carol]);

    for (const c of [alice, bob]) assert.deepEqual(got(c), [['before'], ['after']], `${c.name}: each message once`);
    assert.deepEqual(got(carol), [['after']]);

    const log = await emulator.log();
    const sends = log.filter((e) => e.kind === 'rest' && e.method === 'POST' && e.path === '/api/hubs/chat/:send');
    assert.equal(sends.length, 4, 'one REST call per broadcast (two messages, two markers)');
    for (const e of sends) assert.equal(e.status, 202);
    const upstream = log.filter((e) => e.kind === 'upstream' && e.headers['X-ASRS-Event'] === 'broadcast');
    assert.equal(upstream.length, 4);
    for (const e of upstream) assert.equal(e.status, 200, 'every upstream call accepted');
    assert.doesNotMatch(nginx.errorLog(), /\[(error|crit|alert|emerg)\]/);
  });
}
