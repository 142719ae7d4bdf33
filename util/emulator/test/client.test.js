'use strict';
// Client side: negotiate, token checks, WebSocket sessions with
// @microsoft/signalr (JSON and MessagePack) and raw ws clients.

const test = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const {
  KEY2, OTHER_KEY, clientToken, startEmulator, request, rest, hubClient, rawClient, waitFor, eventLog, now,
} = require('./helpers');

const negotiate = (emulator, query, token) => request(emulator.port, 'POST', `/client/negotiate?${query}`,
  { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });

const connections = async (emulator) =>
  JSON.parse((await request(emulator.port, 'GET', '/_emulator/connections')).body);

test('negotiate v1 and v0 responses', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const v1 = await negotiate(emulator, 'hub=Chat&negotiateVersion=1', clientToken({ hub: 'chat' }));
  assert.equal(v1.status, 200);
  const body = JSON.parse(v1.body);
  assert.deepEqual(Object.keys(body), ['negotiateVersion', 'connectionId', 'connectionToken', 'availableTransports']);
  assert.equal(body.negotiateVersion, 1);
  assert.notEqual(body.connectionToken, body.connectionId);
  assert.deepEqual(body.availableTransports, [{ transport: 'WebSockets', transferFormats: ['Text', 'Binary'] }]);

  const v0 = JSON.parse((await negotiate(emulator, 'hub=chat', clientToken())).body);
  assert.equal(v0.negotiateVersion, 0);
  assert.equal(v0.connectionToken, undefined);
});

test('the token may come from the access_token query parameter', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const r = await request(emulator.port, 'POST', `/client/negotiate?hub=chat&access_token=${clientToken()}`);
  assert.equal(r.status, 200);
});

test('negotiate rejects bad tokens with 401 and bad hubs with 400', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const port = emulator.port;
  const cases = [
    ['no token', undefined, 401],
    ['a wrong key', clientToken({ key: OTHER_KEY }), 401],
    ['the second key when none is configured', clientToken({ key: KEY2 }), 401],
    ['aud with the port', clientToken({ aud: `http://127.0.0.1:${port}/client/?hub=chat` }), 401],
    ['aud with localhost', clientToken({ aud: 'http://localhost/client/?hub=chat' }), 401],
    ['aud of another hub', clientToken({ hub: 'other' }), 401],
    ['aud with the hub not lower-cased', clientToken({ hub: 'Chat' }), 401],
    ['an expired token', clientToken({ exp: now() - 60 }), 401],
    ['nbf in the future', clientToken({ nbf: now() + 60 }), 401],
    ['no exp', clientToken({ exp: null }), 401],
    ['a garbage token', 'garbage', 401],
  ];
  for (const [what, token, status] of cases) {
    const r = await negotiate(emulator, 'hub=chat&negotiateVersion=1', token);
    assert.equal(r.status, status, what);
  }
  for (const hub of ['', '1chat', 'chat-room', 'a'.repeat(129)]) {
    const r = await negotiate(emulator, `hub=${hub}`, clientToken({ hub }));
    assert.equal(r.status, 400, `hub ${JSON.stringify(hub)}`);
  }
  assert.equal((await negotiate(emulator, 'hub=a`,.[]_9', clientToken({ hub: 'a`,.[]_9' }))).status, 200);
  const log = await eventLog(emulator);
  assert.match(log.find((e) => e.kind === 'negotiate' && e.status === 401 && /expired/.test(e.error)).error, /expired/);
});

test('the second key is accepted when configured', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, { key2: KEY2 });
  assert.equal((await negotiate(emulator, 'hub=chat', clientToken({ key: KEY2 }))).status, 200);
});

test('JSON and MessagePack clients connect; connections are listed', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const a = await hubClient(t, emulator, { hub: 'Chat', user: 'alice' });
  const b = await hubClient(t, emulator, { user: 'bob', protocol: 'messagepack' });
  const c = await hubClient(t, emulator, { hub: 'other' });
  assert.deepEqual((await connections(emulator)).sort((x, y) => x.protocol.localeCompare(y.protocol) || x.hub.localeCompare(y.hub)), [
    { connectionId: a.id, hub: 'chat', userId: 'alice', protocol: 'json', groups: [] },
    { connectionId: c.id, hub: 'other', userId: null, protocol: 'json', groups: [] },
    { connectionId: b.id, hub: 'chat', userId: 'bob', protocol: 'messagepack', groups: [] },
  ]);
  await a.connection.stop();
  await waitFor(async () => (await connections(emulator)).length === 2, 'a to leave');
});

test('user id from nameid or sub when there is no asrs.s.uid', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  await hubClient(t, emulator, { token: clientToken({ claims: { nameid: 'nid', sub: 'sid' } }) });
  await hubClient(t, emulator, { token: clientToken({ claims: { sub: 'sid' } }) });
  assert.deepEqual((await connections(emulator)).map((c) => c.userId).sort(), ['nid', 'sid']);
});

test('a client with a bad token fails to start', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  await assert.rejects(hubClient(t, emulator, { token: clientToken({ exp: now() - 60 }) }), /401/);
  await assert.rejects(hubClient(t, emulator, { token: clientToken({ exp: now() - 60 }), skipNegotiation: true }));
  assert.deepEqual(await connections(emulator), []);
});

test('skipNegotiation: a WebSocket without id gets a fresh connection', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  await hubClient(t, emulator, { user: 'u', skipNegotiation: true });
  assert.equal((await connections(emulator))[0].userId, 'u');
});

// Resolves the HTTP status the server answered a WebSocket upgrade with.
function upgradeStatus(emulator, path, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${emulator.port}${path}`,
      { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
    ws.on('unexpected-response', (req, res) => {
      resolve(res.statusCode);
      req.destroy();
    });
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('error', (e) => (e.message.includes('Unexpected server response') ? undefined : reject(e)));
  });
}

test('the WebSocket upgrade checks token, hub and connection id', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const token = clientToken();
  const id = async () => JSON.parse((await negotiate(emulator, 'hub=chat&negotiateVersion=1', token)).body).connectionToken;
  assert.equal(await upgradeStatus(emulator, `/client/?hub=chat&id=${await id()}`, clientToken({ key: OTHER_KEY })), 401);
  assert.equal(await upgradeStatus(emulator, `/client/?hub=chat&id=${await id()}`, clientToken({ hub: 'other' })), 401);
  assert.equal(await upgradeStatus(emulator, `/client/?hub=chat&id=${await id()}`), 401);
  assert.equal(await upgradeStatus(emulator, '/client/?hub=chat&id=unknown', token), 404);
  assert.equal(await upgradeStatus(emulator, `/client/?hub=other&id=${await id()}`, clientToken({ hub: 'other' })), 404);
  assert.equal(await upgradeStatus(emulator, `/client/?hub=chat&id=${await id()}&access_token=${token}`), 101);
  const used = await id();
  assert.equal(await upgradeStatus(emulator, `/client/?hub=chat&id=${used}`, token), 101);
  assert.equal(await upgradeStatus(emulator, `/client/?hub=chat&id=${used}`, token), 404);
  assert.equal(await upgradeStatus(emulator, `/elsewhere/?hub=chat`, token), 404);
});

test('handshake errors', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  for (const [request_, expected] of [
    [{ protocol: 'xml', version: 1 }, "The protocol 'xml' is not supported."],
    [{ protocol: 'toString', version: 1 }, "The protocol 'toString' is not supported."],
    [{ protocol: 'json', version: 2 }, "The server does not support version 2 of the 'json' protocol."],
  ]) {
    const ws = new WebSocket(`ws://127.0.0.1:${emulator.port}/client/?hub=chat`, { headers: { Authorization: `Bearer ${clientToken()}` } });
    t.after(() => ws.terminate());
    await new Promise((resolve) => ws.once('open', resolve));
    const reply = new Promise((resolve) => ws.once('message', (data) => resolve(data.toString())));
    const closed = new Promise((resolve) => ws.once('close', resolve));
    ws.send(JSON.stringify(request_) + '\x1e');
    assert.equal(await reply, JSON.stringify({ error: expected }) + '\x1e');
    await closed;
  }
});

test('pings are sent at the configured interval, in each protocol', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, { pingInterval: 0.05 });
  const j = await rawClient(t, emulator);
  const first = await j.frames.next();
  assert.deepEqual([first.data.toString(), first.binary], ['{"type":6}\x1e', false]);
  const m = await rawClient(t, emulator, { protocol: 'messagepack' });
  const ping = await m.frames.next();
  assert.deepEqual([ping.data.toString('hex'), ping.binary], ['029106', true]);
  // client pings are ignored and not logged
  j.ws.send('{"type":6}\x1e');
  assert.deepEqual((await j.frames.next()).data.toString(), '{"type":6}\x1e');
  assert.equal((await eventLog(emulator)).filter((e) => e.kind === 'client.receive').length, 0);
});

test('a protocol violation closes the connection with an error', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const c = await rawClient(t, emulator);
  c.ws.send('{"type":1,"target":"t"}\x1e');
  const close = await c.frames.next();
  assert.equal(close.data.toString(), '{"type":7,"error":"Connection closed with an error."}\x1e');
  assert.equal(await c.closed.next(), 1000);
  await waitFor(async () => (await connections(emulator)).length === 0, 'the connection to go');
});

test('without upstream, client invocations are dropped', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const c = await hubClient(t, emulator, { user: 'u' });
  await c.connection.send('hello', 1);
  const entry = await waitFor(async () => (await eventLog(emulator)).find((e) => e.kind === 'client.receive'), 'the invocation');
  assert.deepEqual(entry.message, { type: 1, target: 'hello', arguments: [1] });
  assert.equal(entry.dropped, 'no upstream configured');
  assert.equal(entry.connectionId, c.id);
});

test('the client can close with a Close message', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const c = await rawClient(t, emulator);
  c.ws.send('{"type":7}\x1e');
  assert.equal(await c.closed.next(), 1000);
  assert.deepEqual(await connections(emulator), []);
});

test('CORS preflight and headers on negotiate', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const pre = await request(emulator.port, 'OPTIONS', '/client/negotiate?hub=chat', {
    headers: { Origin: 'http://app.test', 'Access-Control-Request-Headers': 'authorization,x-signalr-user-agent' },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers['access-control-allow-origin'], 'http://app.test');
  assert.equal(pre.headers['access-control-allow-credentials'], 'true');
  assert.equal(pre.headers['access-control-allow-headers'], 'authorization,x-signalr-user-agent');
  const r = await request(emulator.port, 'POST', '/client/negotiate?hub=chat',
    { headers: { Origin: 'http://app.test', Authorization: `Bearer ${clientToken()}` } });
  assert.equal(r.headers['access-control-allow-origin'], 'http://app.test');
});

test('inspection log can be cleared; unknown paths are 404', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  await rest(emulator, 'HEAD', '/api/health');
  assert.equal((await eventLog(emulator)).length, 1);
  assert.equal((await request(emulator.port, 'DELETE', '/_emulator/log')).status, 204);
  assert.deepEqual(await eventLog(emulator), []);
  assert.equal((await request(emulator.port, 'GET', '/nothing')).status, 404);
  assert.equal((await request(emulator.port, 'GET', '/client/?hub=chat')).status, 400);
});
