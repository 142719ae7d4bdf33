'use strict';
// Real SignalR clients, JSON and MessagePack, through nginx and the emulator:
// negotiate through nginx, invoke a hub method, the emulator's upstream call
// reaches the trigger, the trigger's route is a signalr_output location, its
// REST call reaches the emulator, which delivers to exactly the right clients.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startEmulator, startNginx, freePort, fetchWithTimeout, EMULATOR_KEY } = require('./lib/stack');
const { connect } = require('./lib/clients');
const { routes } = require('./lib/confs');

const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

async function stack(t) {
  const port = await freePort();
  const emulator = await startEmulator(t, { name: 'delivery', upstream: `http://127.0.0.1:${port}/runtime/webhooks/signalr` });
  const nginx = await startNginx(t, {
    name: 'delivery', port, conf: routes(emulator.url),
    env: { AzureSignalRConnectionString: emulator.connectionString },
  });
  return { emulator, nginx, api: `${nginx.url}/api` };
}

// Every client receives a fresh marker, broadcast after the message under
// test: messages to a connection arrive in order, so a client that has the
// marker would have had the message too.
let markers = 0;
async function settle(sender, clients) {
  const marker = `marker-${++markers}`;
  await sender.invoke('broadcast', marker);
  await Promise.all(clients.map((c) => c.waitFor((m) => m.args[0] === marker, marker)));
}

// The newMessage argument lists a client received, without markers.
const got = (client) => client.texts().filter((args) => !String(args[0]).startsWith('marker-'));

test('end to end through nginx and the emulator', { timeout: 120000 }, async (t) => {
  const { emulator, nginx, api } = await stack(t);

  await t.test('negotiate through nginx: anonymous, and with a user id', async () => {
    for (const [query, uid] of [['', undefined], ['?user=alice', 'alice']]) {
      const res = await fetchWithTimeout(`${nginx.url}/api/negotiate${query}`, { method: 'POST' });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.url, `${emulator.url}/client/?hub=chat`);
      const [header, payload, signature] = body.accessToken.split('.');
      assert.deepEqual(decode(header), { alg: 'HS256', typ: 'JWT' });
      const claims = decode(payload);
      assert.equal(claims['asrs.s.uid'], uid);
      assert.equal(claims.aud, 'http://127.0.0.1/client/?hub=chat');
      assert.ok(claims.exp > Date.now() / 1000 + 3000, 'exp about an hour ahead');
      const expected = crypto.createHmac('sha256', EMULATOR_KEY).update(`${header}.${payload}`).digest('base64url');
      assert.equal(signature, expected);
    }
  });

  for (const protocol of ['json', 'messagepack']) {
    await t.test(`${protocol}: connect anonymously and as a user; the route sees who called`, async (t) => {
      const anon = await connect(t, api, { protocol, name: 'anon' });
      const alice = await connect(t, api, { user: 'alice', protocol });
      assert.deepEqual(await anon.invoke('whoami'), { user: '', connectionId: anon.id, hub: 'chat' });
      assert.deepEqual(await alice.invoke('whoami'), { user: 'alice', connectionId: alice.id, hub: 'chat' });
      const conns = await emulator.connections();
      const byId = Object.fromEntries(conns.map((c) => [c.connectionId, c]));
      assert.equal(byId[anon.id].userId, null);
      assert.equal(byId[alice.id].userId, 'alice');
      assert.equal(byId[alice.id].protocol, protocol);
    });

    await t.test(`${protocol}: invoke resolves with the route's result`, async (t) => {
      const c = await connect(t, api, { user: 'echo', protocol });
      const args = ['text', 42, 1.5, true, null, { nested: ['é😀', { n: -7 }] }];
      assert.deepEqual(await c.invoke('echo', ...args), args);
      assert.deepEqual(await c.invoke('echo'), []);
    });

    await t.test(`${protocol}: invoke rejects with a failing route's error`, async (t) => {
      const c = await connect(t, api, { user: 'fails', protocol });
      await assert.rejects(c.invoke('fail'), { message: /^Invocation failed\.$/ });
      // no route at all: the trigger answers 404, the service reports it
      await assert.rejects(c.invoke('noSuchMethod'), { message: /Invocation failed, status code 404/ });
      // an output location refusing its arguments (no group name)
      await assert.rejects(c.invoke('sendToGroup', 42, 'x'), { message: /^Invocation failed\.$/ });
      // the connection is still usable
      assert.deepEqual(await c.invoke('echo', 'still here'), ['still here']);
    });

    await t.test(`${protocol}: broadcast reaches everyone, with invoke() and send()`, async (t) => {
      const a = await connect(t, api, { user: 'alice', protocol: 'json' });
      const b = await connect(t, api, { user: 'bob', protocol });
      const anon = await connect(t, api, { protocol, name: 'anon' });
      const payload = ['hello', 42, { x: [1, 'two'] }];
      assert.deepEqual(await a.invoke('broadcast', ...payload), { completed: 1, total: 1 });
      await b.send('broadcast', 'sent without waiting');
      await settle(a, [a, b, anon]);
      for (const c of [a, b, anon]) {
        assert.deepEqual(got(c), [payload, ['sent without waiting']], c.name);
      }
    });

    await t.test(`${protocol}: to a user reaches each of the user's connections, no one else`, async (t) => {
      const a = await connect(t, api, { user: 'alice', protocol });
      const b1 = await connect(t, api, { user: 'bob', protocol, name: 'bob1' });
      const b2 = await connect(t, api, { user: 'bob', protocol: 'json', name: 'bob2' });
      const c = await connect(t, api, { user: 'carol', protocol });
      assert.deepEqual(await a.invoke('sendToUser', 'bob', 'psst', 1), { completed: 1, total: 1 });
      await settle(a, [a, b1, b2, c]);
      assert.deepEqual(got(b1), [['psst', 1]]);
      assert.deepEqual(got(b2), [['psst', 1]]);
      assert.deepEqual(got(a), []);
      assert.deepEqual(got(c), []);
    });

    await t.test(`${protocol}: to a connection reaches that connection only`, async (t) => {
      const a = await connect(t, api, { user: 'alice', protocol });
      const b1 = await connect(t, api, { user: 'bob', protocol, name: 'bob1' });
      const b2 = await connect(t, api, { user: 'bob', protocol, name: 'bob2' });
      assert.deepEqual(await a.invoke('sendToConnection', b2.id, 'direct'), { completed: 1, total: 1 });
      await settle(a, [a, b1, b2]);
      assert.deepEqual(got(b2), [['direct']]);
      assert.deepEqual(got(b1), []);
      assert.deepEqual(got(a), []);
    });

    await t.test(`${protocol}: to everyone except excluded connections`, async (t) => {
      const a = await connect(t, api, { user: 'alice', protocol });
      const b = await connect(t, api, { user: 'bob', protocol });
      const c = await connect(t, api, { protocol, name: 'anon' });
      assert.deepEqual(await a.invoke('broadcastExcept', a.id, 'not for alice'), { completed: 1, total: 1 });
      assert.deepEqual(await b.invoke('broadcastExcept', c.id, 'not for anon'), { completed: 1, total: 1 });
      await settle(a, [a, b, c]);
      assert.deepEqual(got(a), [['not for anon']]);
      assert.deepEqual(got(b), [['not for alice'], ['not for anon']]);
      assert.deepEqual(got(c), [['not for alice']]);
    });

    await t.test(`${protocol}: connections join and leave groups; group sends reach members only`, async (t) => {
      const a = await connect(t, api, { user: 'alice', protocol });
      const b = await connect(t, api, { user: 'bob', protocol });
      const c = await connect(t, api, { user: 'carol', protocol: 'json' });
      const group = `room-${protocol}`;
      // nobody is in the group yet
      await a.invoke('sendToGroup', group, 'to nobody');
      assert.deepEqual(await b.invoke('joinGroup', group), { completed: 1, total: 1 });
      assert.deepEqual(await c.invoke('joinGroup', group), { completed: 1, total: 1 });
      const members = Object.fromEntries((await emulator.connections()).map((x) => [x.connectionId, x.groups]));
      assert.deepEqual(members[b.id], [group]);
      assert.deepEqual(members[a.id], []);
      await a.invoke('sendToGroup', group, 'first');
      assert.deepEqual(await c.invoke('leaveGroup', group), { completed: 1, total: 1 });
      await a.invoke('sendToGroup', group, 'second');
      await settle(a, [a, b, c]);
      assert.deepEqual(got(a), []);
      assert.deepEqual(got(b), [['first'], ['second']]);
      assert.deepEqual(got(c), [['first']]);
    });

    await t.test(`${protocol}: users join and leave groups with all their connections`, async (t) => {
      const a = await connect(t, api, { user: 'alice', protocol });
      const d1 = await connect(t, api, { user: `dave-${protocol}`, protocol, name: 'dave1' });
      const d2 = await connect(t, api, { user: `dave-${protocol}`, protocol: 'json', name: 'dave2' });
      const group = `club-${protocol}`;
      assert.deepEqual(await d1.invoke('joinGroupAsUser', group), { completed: 1, total: 1 });
      await a.invoke('sendToGroup', group, 'members');
      assert.deepEqual(await d2.invoke('leaveGroupAsUser', group), { completed: 1, total: 1 });
      await a.invoke('sendToGroup', group, 'after leaving');
      await settle(a, [a, d1, d2]);
      assert.deepEqual(got(d1), [['members']]);
      assert.deepEqual(got(d2), [['members']]);
      assert.deepEqual(got(a), []);
    });
  }

  await t.test('the emulator saw the REST calls nginx made, and accepted all of them', async () => {
    const log = await emulator.log();
    const rest = log.filter((e) => e.kind === 'rest');
    const calls = new Set(rest.map((e) => `${e.method} ${e.path.replace(/[A-Za-z0-9_-]{22}/g, '<c>')}`));
    for (const expected of [
      'POST /api/hubs/chat/:send',
      'POST /api/hubs/chat/users/bob/:send',
      'POST /api/hubs/chat/connections/<c>/:send',
      'POST /api/hubs/chat/groups/room-json/:send',
      'PUT /api/hubs/chat/groups/room-json/connections/<c>',
      'DELETE /api/hubs/chat/groups/room-messagepack/connections/<c>',
      'PUT /api/hubs/chat/users/dave-json/groups/club-json',
      'DELETE /api/hubs/chat/users/dave-json/groups/club-json',
    ]) {
      assert.ok(calls.has(expected), `${expected} in ${[...calls].join(', ')}`);
    }
    for (const e of rest) {
      assert.ok(e.status >= 200 && e.status < 300, `${e.method} ${e.path}: ${e.status} ${e.error || ''}`);
      assert.match(e.headers.authorization, /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      assert.equal(e.query.split('&')[0], 'api-version=2022-06-01');
    }
    assert.ok(rest.some((e) => /(^|&)excluded=/.test(e.query)), 'a send with excluded');
    const upstream = log.filter((e) => e.kind === 'upstream');
    assert.ok(upstream.length > 0);
    for (const e of upstream) {
      assert.equal(e.url, `${nginx.url}/runtime/webhooks/signalr`);
      assert.ok([200, 404].includes(e.status), `upstream ${e.headers['X-ASRS-Event']}: ${e.status}`);
    }
  });
});
