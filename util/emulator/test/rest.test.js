'use strict';
// The REST API: deliveries to exactly the right clients, groups, closing,
// existence checks, authentication and validation.

const test = require('node:test');
const assert = require('node:assert/strict');
const { isDeepStrictEqual } = require('node:util');
const {
  KEY2, OTHER_KEY, clientToken, restToken, startEmulator, request, rest, hubClient, waitFor, eventLog, now, mint,
} = require('./helpers');

const V = '?api-version=2022-06-01';
const api = (path, extra = '') => `/api/hubs/chat${path}${V}${extra}`;

// Sends with `send` (which must answer `status`), then broadcasts a marker
// to hubs chat and other; returns the names of the clients whose next
// message was `args` rather than the marker.
async function receivers(emulator, clients, send, { args = ['hello'], status = 202 } = {}) {
  const r = await send();
  assert.equal(r.status, status, r.body);
  const marker = ['marker', Math.random()];
  for (const hub of ['chat', 'other']) {
    const m = await rest(emulator, 'POST', `/api/hubs/${hub}/:send${V}`, { body: { target: 'msg', arguments: marker } });
    assert.equal(m.status, 202);
  }
  const got = [];
  for (const [name, client] of Object.entries(clients)) {
    const first = await client.inbox.next();
    if (isDeepStrictEqual(first, marker)) continue;
    assert.deepEqual(first, args, `${name} received something else`);
    assert.deepEqual(await client.inbox.next(), marker, `${name} received more`);
    got.push(name);
  }
  return got;
}

const message = { target: 'msg', arguments: ['hello'] };

test('deliveries and groups', { timeout: 30000 }, async (t) => {
  const emulator = await startEmulator(t);
  const clients = {
    a: await hubClient(t, emulator, { user: 'alice' }),
    b: await hubClient(t, emulator, { user: 'alice', protocol: 'messagepack' }),
    c: await hubClient(t, emulator, { user: 'bob' }),
    d: await hubClient(t, emulator, { protocol: 'messagepack' }),
    e: await hubClient(t, emulator, { hub: 'other', user: 'alice' }),
  };
  const { a, b, c, d } = clients;
  const deliver = (send, options) => receivers(emulator, clients, send, options);
  const post = (path, body = message) => () => rest(emulator, 'POST', path, { body });

  await t.test('broadcast reaches the hub only', async () => {
    assert.deepEqual(await deliver(post(api('/:send'))), ['a', 'b', 'c', 'd']);
  });
  await t.test('broadcast with excluded', async () => {
    assert.deepEqual(await deliver(post(api('/:send', `&excluded=${a.id}&excluded=${c.id}`))), ['b', 'd']);
  });
  await t.test('send to a user: all the user\'s connections in the hub', async () => {
    assert.deepEqual(await deliver(post(api('/users/alice/:send'))), ['a', 'b']);
    assert.deepEqual(await deliver(post(api('/users/nobody/:send'))), []);
  });
  await t.test('send to a connection', async () => {
    assert.deepEqual(await deliver(post(api(`/connections/${d.id}/:send`))), ['d']);
    assert.deepEqual(await deliver(post(`/api/hubs/other/connections/${d.id}/:send${V}`)), []);
  });
  await t.test('arguments of any JSON type, in both protocols', async () => {
    const args = [1, 'two', { three: [3, null, true] }, [], 1.5];
    assert.deepEqual(await deliver(post(api('/:send'), { target: 'msg', arguments: args }), { args }), ['a', 'b', 'c', 'd']);
  });
  await t.test('Target/Arguments in PascalCase; null Arguments', async () => {
    assert.deepEqual(await deliver(post(api(`/connections/${a.id}/:send`), { Target: 'msg', Arguments: ['hello'] })), ['a']);
    assert.deepEqual(await deliver(post(api(`/connections/${b.id}/:send`), { Target: 'msg', Arguments: null }), { args: [] }), ['b']);
  });

  await t.test('add connections to a group; group send with excluded', async () => {
    for (const x of [a, c]) {
      assert.equal((await rest(emulator, 'PUT', api(`/groups/g1/connections/${x.id}`))).status, 200);
    }
    assert.deepEqual(await deliver(post(api('/groups/g1/:send'))), ['a', 'c']);
    assert.deepEqual(await deliver(post(api('/groups/g1/:send', `&excluded=${c.id}`))), ['a']);
    assert.deepEqual(await deliver(post(api('/groups/G1/:send'))), [], 'group names are case-sensitive');
  });
  await t.test('add an unknown connection to a group: 404 Error.Connection.NotExisted', async () => {
    const r = await rest(emulator, 'PUT', api('/groups/g1/connections/nope'));
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-ms-error-code'], 'Error.Connection.NotExisted');
  });
  await t.test('remove a connection from a group', async () => {
    assert.equal((await rest(emulator, 'DELETE', api(`/groups/g1/connections/${c.id}`))).status, 200);
    assert.deepEqual(await deliver(post(api('/groups/g1/:send'))), ['a']);
  });
  await t.test('remove a connection from all groups', async () => {
    assert.equal((await rest(emulator, 'PUT', api(`/groups/g2/connections/${a.id}`))).status, 200);
    assert.equal((await rest(emulator, 'DELETE', api(`/connections/${a.id}/groups`))).status, 200);
    assert.deepEqual(await deliver(post(api('/groups/g1/:send'))), []);
    assert.deepEqual(await deliver(post(api('/groups/g2/:send'))), []);
  });

  await t.test('add a user to a group: all the user\'s connections', async () => {
    assert.equal((await rest(emulator, 'PUT', api('/users/alice/groups/g3'))).status, 200);
    assert.deepEqual(await deliver(post(api('/groups/g3/:send'))), ['a', 'b']);
    assert.equal((await rest(emulator, 'HEAD', api('/users/alice/groups/g3'))).status, 200);
    assert.equal((await rest(emulator, 'GET', api('/users/alice/groups/g3'))).status, 200);
  });
  await t.test('the user\'s later connections join too', async () => {
    const late = await hubClient(t, emulator, { user: 'alice' });
    const all = { ...clients, late };
    assert.deepEqual(await receivers(emulator, all, post(api('/groups/g3/:send'))), ['a', 'b', 'late']);
    await late.connection.stop();
  });
  await t.test('remove a user from a group: 204', async () => {
    assert.equal((await rest(emulator, 'DELETE', api('/users/alice/groups/g3'))).status, 204);
    assert.deepEqual(await deliver(post(api('/groups/g3/:send'))), []);
    const r = await rest(emulator, 'HEAD', api('/users/alice/groups/g3'));
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-ms-error-code'], 'Info.User.NotInGroup');
  });
  await t.test('remove a user from all groups: 204', async () => {
    for (const g of ['g4', 'g5']) assert.equal((await rest(emulator, 'PUT', api(`/users/bob/groups/${g}`))).status, 200);
    assert.deepEqual(await deliver(post(api('/groups/g5/:send'))), ['c']);
    assert.equal((await rest(emulator, 'DELETE', api('/users/bob/groups'))).status, 204);
    assert.deepEqual(await deliver(post(api('/groups/g4/:send'))), []);
    assert.deepEqual(await deliver(post(api('/groups/g5/:send'))), []);
  });
  await t.test('ttl: the membership expires', async () => {
    assert.equal((await rest(emulator, 'PUT', api('/users/bob/groups/g6', '&ttl=1'))).status, 200);
    const added = Date.now();
    assert.deepEqual(await deliver(post(api('/groups/g6/:send'))), ['c']);
    await waitFor(async () => (await rest(emulator, 'HEAD', api('/users/bob/groups/g6'))).status === 404, 'expiry');
    assert.ok(Date.now() - added >= 900, 'expired too early');
    assert.deepEqual(await deliver(post(api('/groups/g6/:send'))), []);
  });
  await t.test('ttl=0 adds only the current connections', async () => {
    assert.equal((await rest(emulator, 'PUT', api('/users/bob/groups/g7', '&ttl=0'))).status, 200);
    assert.deepEqual(await deliver(post(api('/groups/g7/:send'))), ['c']);
    const late = await hubClient(t, emulator, { user: 'bob' });
    assert.deepEqual(await receivers(emulator, { ...clients, late }, post(api('/groups/g7/:send'))), ['c']);
    await late.connection.stop();
  });
  await t.test('invalid ttl: 400', async () => {
    for (const ttl of ['-1', '1.5', 'x', '2147483648']) {
      assert.equal((await rest(emulator, 'PUT', api('/users/bob/groups/g8', `&ttl=${ttl}`))).status, 400, ttl);
    }
  });

  await t.test('existence checks, HEAD and GET', async () => {
    await rest(emulator, 'PUT', api(`/groups/g9/connections/${d.id}`));
    const checks = [
      [`/connections/${a.id}`, 200], ['/connections/nope', 404, 'Warning.Connection.NotExisted'],
      ['/users/bob', 200], ['/users/nobody', 404, 'Warning.User.NotExisted'],
      ['/groups/g9', 200], ['/groups/empty', 404, 'Warning.Group.NotExisted'],
    ];
    for (const method of ['HEAD', 'GET']) {
      for (const [path, status, code] of checks) {
        const r = await rest(emulator, method, api(path));
        assert.equal(r.status, status, `${method} ${path}`);
        assert.equal(r.headers['x-ms-error-code'], code);
        if (method === 'GET' && code) assert.equal(JSON.parse(r.body).code, code);
        if (method === 'HEAD') assert.equal(r.body, '');
      }
    }
  });

  await t.test('v1 routes', async () => {
    const v1 = (path) => `/api/v1/hubs/chat${path}`;
    assert.deepEqual(await deliver(post(v1(''))), ['a', 'b', 'c', 'd']);
    assert.deepEqual(await deliver(post(`${v1('')}?excluded=${a.id}`)), ['b', 'c', 'd']);
    assert.deepEqual(await deliver(post(v1('/users/bob'))), ['c']);
    assert.deepEqual(await deliver(post(v1(`/connections/${b.id}`))), ['b']);
    assert.equal((await rest(emulator, 'PUT', v1(`/groups/v1g/connections/${a.id}`))).status, 200);
    assert.equal((await rest(emulator, 'PUT', v1('/groups/v1g/users/bob'))).status, 202);
    assert.deepEqual(await deliver(post(v1('/groups/v1g'))), ['a', 'c']);
    assert.equal((await rest(emulator, 'GET', v1('/groups/v1g/users/bob'))).status, 200);
    assert.equal((await rest(emulator, 'DELETE', v1('/groups/v1g/users/bob'))).status, 202);
    assert.equal((await rest(emulator, 'HEAD', v1('/groups/v1g/users/bob'))).status, 404);
    assert.equal((await rest(emulator, 'DELETE', v1(`/groups/v1g/connections/${a.id}`))).status, 200);
    assert.equal((await rest(emulator, 'HEAD', v1('/groups/v1g'))).status, 404);
    assert.equal((await rest(emulator, 'GET', v1(`/connections/${a.id}`))).status, 200);
    assert.equal((await rest(emulator, 'HEAD', v1('/users/alice'))).status, 200);
    assert.equal((await rest(emulator, 'DELETE', v1('/users/alice/groups'))).status, 200);
    assert.equal((await rest(emulator, 'DELETE', v1('/connections/nope'))).status, 202);
  });
});

// A client token with this claim lets close reasons through (see closeWithReason in rest.js).
const DETAILED = { 'asrs.s.derror': 'True' };

test('closing connections', { timeout: 30000 }, async (t) => {
  const emulator = await startEmulator(t);
  const client = (user, protocol, claims) => hubClient(t, emulator, { user, protocol, claims });
  const exists = async (c) => (await rest(emulator, 'HEAD', api(`/connections/${c.id}`))).status === 200;

  await t.test('close one connection with a reason', async () => {
    const [x, y] = [await client('x', 'json', DETAILED), await client('y', 'messagepack', DETAILED)];
    const [v, w] = [await client('v'), await client('w', 'messagepack', { 'asrs.s.derror': 'False' })];
    assert.equal((await rest(emulator, 'DELETE', api(`/connections/${x.id}`, '&reason=bye%20now'))).status, 200);
    assert.match((await x.closed.next()).message, /Server returned an error on close: bye now/);
    assert.equal((await rest(emulator, 'DELETE', api(`/connections/${y.id}`))).status, 200);
    assert.equal(await y.closed.next(), undefined, 'no reason: a clean close');
    // without detailed errors in the token, the reason does not reach the client
    for (const c of [v, w]) {
      assert.equal((await rest(emulator, 'DELETE', api(`/connections/${c.id}`, '&reason=bye%20now'))).status, 200);
      assert.equal(await c.closed.next(), undefined, 'no detailed errors: a clean close');
    }
    const closes = (await eventLog(emulator)).filter((e) => e.kind === 'client.send' && e.message.type === 7);
    assert.deepEqual(closes.map((e) => [e.connectionId, e.message.error]),
      [[x.id, 'bye now'], [y.id, undefined], [v.id, undefined], [w.id, undefined]]);
    await waitFor(async () => !(await exists(x)) && !(await exists(y)), 'the connections to go');
    const r = await rest(emulator, 'DELETE', api(`/connections/${x.id}`));
    assert.equal(r.status, 404);
    assert.equal(r.headers['x-ms-error-code'], 'Warning.Connection.NotExisted');
  });
  await t.test(':closeConnections for the hub, with excluded', async () => {
    const [x, y] = [await client('x', 'json', DETAILED), await client('y')];
    assert.equal((await rest(emulator, 'POST', api('/:closeConnections', `&excluded=${y.id}&reason=all`))).status, 204);
    assert.match((await x.closed.next()).message, /all/);
    assert.ok(await exists(y));
    await y.connection.stop();
  });
  await t.test(':closeConnections for a group and for a user', async () => {
    const [x, y, z] = [await client('x'), await client('y', 'json', DETAILED), await client('z')];
    await rest(emulator, 'PUT', api(`/groups/cg/connections/${x.id}`));
    assert.equal((await rest(emulator, 'POST', api('/groups/cg/:closeConnections'))).status, 204);
    assert.equal(await x.closed.next(), undefined);
    assert.equal((await rest(emulator, 'POST', api('/users/y/:closeConnections', '&reason=r'))).status, 204);
    assert.match((await y.closed.next()).message, /r/);
    assert.ok(await exists(z));
  });
});

test('REST authentication', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const path = '/api/hubs/chat/:send';
  const send = (token, query = V) => rest(emulator, 'POST', `${path}${query}`, { token, body: message });
  const base = 'http://127.0.0.1';
  const unauthorized = [
    ['a wrong key', restToken(path, { key: OTHER_KEY })],
    ['the second key when none is configured', restToken(path, { key: KEY2 })],
    ['an expired token', restToken(path, { exp: now() - 60 })],
    ['aud with the port', restToken(path, { aud: `${base}:${emulator.port}${path}${V}` })],
    ['aud with the port, docs form', restToken(path, { aud: `${base}:${emulator.port}${path}` })],
    ['aud with localhost', restToken(path, { aud: `http://localhost${path}${V}` })],
    ['aud of another path', restToken('/api/hubs/chat/users/u/:send')],
    ['aud of another hub', restToken('/api/hubs/other/:send')],
    ['aud with a trailing slash', restToken(path, { aud: `${base}${path}/` })],
    ['aud with another api-version', restToken(path, { aud: `${base}${path}?api-version=2024-01-01` })],
    ['a client token', clientToken()],
    ['garbage', 'garbage'],
  ];
  for (const [what, token] of unauthorized) {
    const r = await send(token);
    assert.equal(r.status, 401, what);
    assert.equal(r.headers['www-authenticate'], 'Bearer');
  }
  assert.equal((await request(emulator.port, 'POST', `${path}${V}`)).status, 401, 'no Authorization');
  assert.equal((await send(mint({ aud: `${base}${path}${V}` }))).status, 401, 'no exp');
  // excluded is not part of the SDK's audience
  assert.equal((await send(restToken(path, { aud: `${base}${path}${V}&excluded=x` }), `${V}&excluded=x`)).status, 401);
  assert.equal((await send(restToken(path), `${V}&excluded=x`)).status, 202, 'SDK form');
  assert.equal((await send(restToken(path, { aud: `${base}${path}` }), `${V}&excluded=x`)).status, 202, 'docs form');
  const log = await eventLog(emulator);
  assert.match(log.find((e) => e.kind === 'rest' && e.status === 401).error, /invalid signature/);
});

test('REST accepts the second key when configured', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, { key2: KEY2 });
  const path = '/api/hubs/chat/:send';
  assert.equal((await rest(emulator, 'POST', `${path}${V}`, { token: restToken(path, { key: KEY2 }), body: message })).status, 202);
});

test('REST validation', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const invalid = async (method, path, target, options = {}) => {
    const r = await rest(emulator, method, path, options);
    assert.equal(r.status, 400, `${method} ${path}: ${r.body}`);
    assert.equal(r.headers['x-ms-error-code'], 'Error.Request.Invalid');
    assert.equal(JSON.parse(r.body).target, target);
  };
  await invalid('POST', `/api/hubs/1chat/:send${V}`, 'hub', { body: message });
  await invalid('POST', `/api/hubs/chat-room/:send${V}`, 'hub', { body: message });
  await invalid('POST', `/api/hubs/${'a'.repeat(129)}/:send${V}`, 'hub', { body: message });
  await invalid('POST', '/api/hubs/chat/:send?application=9app&api-version=2022-06-01', 'application', {
    body: message, token: restToken('/api/hubs/chat/:send', { aud: 'http://127.0.0.1/api/hubs/chat/:send' }),
  });
  await invalid('POST', api('/groups/%20%20/:send'), 'group', { body: message });
  await invalid('PUT', api(`/groups/${'g'.repeat(1025)}/connections/c`), 'group');
  await invalid('PUT', api('/users/u/groups/%09'), 'group');
  await invalid('POST', '/api/hubs/chat/:send', 'api-version', { body: message });
  await invalid('POST', api('/:send'), 'target', { body: { arguments: [] } });
  await invalid('POST', api('/:send'), 'target', { body: { target: '', arguments: [] } });
  await invalid('POST', api('/:send'), 'target', { body: { target: 5 } });
  await invalid('POST', api('/:send'), 'arguments', { body: { target: 't', arguments: 'x' } });
  await invalid('POST', api('/:send'), 'body', { body: '{"target":' });
  await invalid('POST', api('/:send'), 'body', { body: '["target"]' });

  const big = await rest(emulator, 'POST', api('/:send'), { body: { target: 't', arguments: ['x'.repeat(1024 * 1024)] } });
  assert.equal(big.status, 413);
  const exactly = JSON.stringify({ target: 't', arguments: [''] });
  const justFits = exactly.replace('""', `"${'x'.repeat(1024 * 1024 - exactly.length)}"`);
  assert.equal((await rest(emulator, 'POST', api('/:send'), { body: justFits })).status, 202, '1 MiB exactly');
  const text = await rest(emulator, 'POST', api('/:send'), { body: JSON.stringify(message), headers: { 'Content-Type': 'text/plain' } });
  assert.equal(text.status, 415);

  assert.equal((await rest(emulator, 'POST', api('/nowhere/:send'), { body: message })).status, 404);
  const wrongMethod = await rest(emulator, 'GET', api('/:send'));
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.allow, 'POST');
  assert.equal((await rest(emulator, 'POST', api('/groups/a%ZZ/:send'), { body: message })).status, 400);
  // the SDK puts application before api-version; the hub is then app_chat
  const client = await hubClient(t, emulator, { hub: 'app_chat' });
  const withApp = '/api/hubs/chat/:send?application=App&api-version=2022-06-01';
  assert.equal((await rest(emulator, 'POST', withApp, {
    token: mint({ exp: now() + 60, aud: `http://127.0.0.1${withApp}` }), body: message,
  })).status, 202);
  assert.deepEqual(await client.inbox.next(), ['hello']);
});

test('health needs no token', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  assert.equal((await request(emulator.port, 'HEAD', '/api/health')).status, 200);
  assert.equal((await request(emulator.port, 'HEAD', '/api/health?api-version=2022-06-01')).status, 200);
  assert.equal((await request(emulator.port, 'HEAD', '/api/v1/health')).status, 200);
  assert.equal((await request(emulator.port, 'POST', '/api/health')).status, 405);
});

test('the log records REST calls and deliveries', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const c = await hubClient(t, emulator, { user: 'u', protocol: 'messagepack' });
  const token = restToken('/api/hubs/chat/users/u/:send');
  const r = await rest(emulator, 'POST', api('/users/u/:send'), { token, body: message });
  assert.equal(r.status, 202);
  await c.inbox.next();
  const log = await eventLog(emulator);
  const call = log.find((e) => e.kind === 'rest');
  assert.equal(call.method, 'POST');
  assert.equal(call.path, '/api/hubs/chat/users/u/:send');
  assert.equal(call.query, 'api-version=2022-06-01');
  assert.equal(call.headers.authorization, `Bearer ${token}`);
  assert.equal(call.body, JSON.stringify(message));
  assert.equal(call.status, 202);
  const sent = log.find((e) => e.kind === 'client.send');
  assert.deepEqual(sent.message, { type: 1, ...message });
  assert.equal(sent.connectionId, c.id);
  assert.ok(sent.seq > call.seq);
});

// The existence and close routes as v20241201.json has them: HEAD only in
// the spec (GET is kept: older SDKs check user-in-group with GET), 404 with
// the code the SDK's RestHubLifetimeManager expects, 204 for :closeConnections.
const V2024 = '?api-version=2024-12-01';
const api2024 = (path, extra = '') => `/api/hubs/chat${path}${V2024}${extra}`;

test('2024-12-01: existence before and after connect', { timeout: 20000 }, async (t) => {
  const emulator = await startEmulator(t);
  const head = async (path, status, code) => {
    const r = await rest(emulator, 'HEAD', api2024(path));
    assert.equal(r.status, status, path);
    assert.equal(r.headers['x-ms-error-code'], code, path);
    assert.equal(r.body, '');
  };
  await head('/users/late', 404, 'Warning.User.NotExisted');
  await head('/groups/lg', 404, 'Warning.Group.NotExisted');
  await head('/users/late/groups/lg', 404, 'Info.User.NotInGroup');
  const c = await hubClient(t, emulator, { user: 'late' });
  await head(`/connections/${c.id}`, 200);
  await head('/users/late', 200);
  await head('/groups/lg', 404, 'Warning.Group.NotExisted');
  assert.equal((await rest(emulator, 'PUT', api2024('/users/late/groups/lg'))).status, 200);
  await head('/groups/lg', 200);
  await head('/users/late/groups/lg', 200);
  await c.connection.stop();
  await waitFor(async () => (await rest(emulator, 'HEAD', api2024(`/connections/${c.id}`))).status === 404, 'the close');
  await head(`/connections/${c.id}`, 404, 'Warning.Connection.NotExisted');
  await head('/users/late', 404, 'Warning.User.NotExisted');
  await head('/groups/lg', 404, 'Warning.Group.NotExisted');
  // the user's membership outlives the connection (ttl, one year by default)
  await head('/users/late/groups/lg', 200);
  // GET answers the same, with the ErrorDetail body
  const r = await rest(emulator, 'GET', api2024('/users/late'));
  assert.equal(r.status, 404);
  assert.equal(JSON.parse(r.body).code, 'Warning.User.NotExisted');
});

test('2024-12-01: :closeConnections with excluded and reason', { timeout: 20000 }, async (t) => {
  const emulator = await startEmulator(t);
  const exists = async (c) => (await rest(emulator, 'HEAD', api2024(`/connections/${c.id}`))).status === 200;
  const [x, y, z, w, v] = [
    await hubClient(t, emulator, { user: 'x', claims: DETAILED }),
    await hubClient(t, emulator, { user: 'y', claims: DETAILED }),
    await hubClient(t, emulator, { user: 'z', protocol: 'messagepack', claims: DETAILED }),
    await hubClient(t, emulator, { user: 'w' }),
    await hubClient(t, emulator, { user: 'v', protocol: 'messagepack' }),
  ];
  for (const c of [x, y, z, v]) assert.equal((await rest(emulator, 'PUT', api2024(`/groups/cg/connections/${c.id}`))).status, 200);

  const r = await rest(emulator, 'POST', api2024('/groups/cg/:closeConnections', `&excluded=${y.id}&reason=maintenance%20now`));
  assert.equal(r.status, 204);
  assert.equal(r.body, '');
  // the reason reaches the clients with detailed errors in the Close message, whatever their protocol
  for (const c of [x, z]) assert.equal((await c.closed.next()).message, 'Server returned an error on close: maintenance now');
  assert.equal(await v.closed.next(), undefined, 'no detailed errors: a clean close');
  await waitFor(async () => !(await exists(x)) && !(await exists(z)) && !(await exists(v)), 'the closes');
  assert.ok(await exists(y), 'excluded');
  assert.ok(await exists(w), 'not in the group');
  const closes = (await eventLog(emulator)).filter((e) => e.kind === 'client.send' && e.message.type === 7);
  assert.deepEqual(closes.map((e) => e.connectionId).sort(), [x.id, z.id, v.id].sort());
  for (const e of closes) {
    assert.ok(isDeepStrictEqual(e.message, e.connectionId === v.id ? { type: 7 } : { type: 7, error: 'maintenance now' }),
      JSON.stringify(e.message));
  }

  // several excluded, for a user's connections and for the hub
  const y2 = await hubClient(t, emulator, { user: 'y' });
  const y3 = await hubClient(t, emulator, { user: 'y' });
  assert.equal((await rest(emulator, 'POST', api2024('/users/y/:closeConnections', `&excluded=${y.id}&excluded=${y3.id}`))).status, 204);
  assert.equal(await y2.closed.next(), undefined, 'no reason: a clean close');
  await waitFor(async () => !(await exists(y2)), 'the close of y2');
  assert.ok(await exists(y) && await exists(y3) && await exists(w));
  assert.equal((await rest(emulator, 'POST', api2024('/:closeConnections', `&excluded=${w.id}&excluded=${y3.id}&reason=all`))).status, 204);
  assert.equal((await y.closed.next()).message, 'Server returned an error on close: all');
  await waitFor(async () => !(await exists(y)), 'the close of y');
  assert.ok(await exists(w) && await exists(y3));
  // a group or user with no connections: 204 all the same
  assert.equal((await rest(emulator, 'POST', api2024('/groups/none/:closeConnections'))).status, 204);
  assert.equal((await rest(emulator, 'POST', api2024('/users/none/:closeConnections'))).status, 204);
});

// The routes the module calls with 2022-06-01 are in v20241201.json with
// the same method, parameters and success status: each answers the same
// under either version (the module's output keeps 2022-06-01 for them).
test('2022-06-01 routes answer the same under 2024-12-01', { timeout: 30000 }, async (t) => {
  const emulator = await startEmulator(t);
  const c = await hubClient(t, emulator, { user: 'u1' });
  const calls = [
    ['POST', '/:send', '', message, 202],
    ['POST', '/:send', `&excluded=${c.id}`, message, 202],
    ['POST', '/users/u1/:send', '', message, 202],
    ['POST', '/groups/g1/:send', '&excluded=x', message, 202],
    ['POST', `/connections/${c.id}/:send`, '', message, 202],
    ['PUT', `/groups/g1/connections/${c.id}`, '', undefined, 200],
    ['DELETE', `/groups/g1/connections/${c.id}`, '', undefined, 200],
    ['DELETE', `/connections/${c.id}/groups`, '', undefined, 200],
    ['PUT', '/users/u1/groups/g1', '&ttl=60', undefined, 200],
    ['DELETE', '/users/u1/groups/g1', '', undefined, 204],
    ['DELETE', '/users/u1/groups', '', undefined, 204],
  ];
  for (const [method, path, extra, body, status] of calls) {
    for (const url of [api(path, extra), api2024(path, extra)]) {
      const r = await rest(emulator, method, url, body ? { body } : {});
      assert.equal(r.status, status, `${method} ${url}: ${r.body}`);
    }
  }
});
