'use strict';
// Upstream calls against a recording HTTP server: headers, bodies,
// completions relayed to clients, ordering, refusal of connections.

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  KEY, KEY2, clientToken, startEmulator, request, hubClient, rawClient, upstreamServer, signature, waitFor, eventLog,
} = require('./helpers');

const fromHex = (h) => Buffer.from(h, 'hex');
const payloadOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
const asrsHeaders = (req) => Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith('x-asrs-')));

// An emulator whose upstream answers with `app.respond(req)`, replaceable
// per test; connected/disconnected get 200 unless it says otherwise.
async function setup(t, options = {}) {
  const app = { respond: () => ({ status: 200 }) };
  const up = await upstreamServer(t, (req) => app.respond(req));
  const emulator = await startEmulator(t, {
    key2: KEY2, upstream: `http://127.0.0.1:${up.port}/upstream/{hub}/{category}/{event}?code=abc`, ...options,
  });
  return { app, up, emulator };
}

const messages = (up) => up.requests.filter((r) => r.headers['x-asrs-category'] === 'messages');

test('connected: URL, exact headers and body', { timeout: 10000 }, async (t) => {
  const { up, emulator } = await setup(t);
  const token = clientToken({ hub: 'chat', user: 'alice', claims: { role: ['admin', 'ops'] } });
  const claims = payloadOf(token);
  const c = await hubClient(t, emulator, { hub: 'Chat', token });
  const req = await up.next('connections', 'connected');
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/upstream/chat/connections/connected?code=abc');
  const query = req.headers['x-asrs-client-query'];
  assert.match(query, /^\?hub=Chat&id=[\w-]{22}$/);
  assert.deepEqual(asrsHeaders(req), {
    'x-asrs-connection-id': c.id,
    'x-asrs-hub': 'chat',
    'x-asrs-category': 'connections',
    'x-asrs-event': 'connected',
    'x-asrs-user-id': 'alice',
    'x-asrs-user-claims': `asrs.s.uid: alice, role: admin, role: ops, nbf: ${claims.nbf}, exp: ${claims.exp}, ` +
      `iat: ${claims.iat}, aud: http://127.0.0.1/client/?hub=chat`,
    'x-asrs-client-query': query,
    'x-asrs-signature': signature([KEY, KEY2], c.id),
  });
  assert.match(req.headers['x-asrs-signature'], /^sha256=[0-9A-F]{64},sha256=[0-9A-F]{64}$/);
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.body.toString(), '{"type":10}');
});

test('anonymous clients: no user id header; the access_token query is forwarded', { timeout: 10000 }, async (t) => {
  const { up, emulator } = await setup(t);
  const token = clientToken();
  const r = await request(emulator.port, 'POST', '/client/negotiate?hub=chat&negotiateVersion=1', { headers: { Authorization: `Bearer ${token}` } });
  const { connectionToken } = JSON.parse(r.body);
  const WebSocket = require('ws');
  const ws = new WebSocket(`ws://127.0.0.1:${emulator.port}/client/?hub=chat&id=${connectionToken}&access_token=${token}`);
  t.after(() => ws.terminate());
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send('{"protocol":"json","version":1}\x1e');
  const req = await up.next('connections', 'connected');
  assert.equal(req.headers['x-asrs-user-id'], undefined);
  assert.equal(req.headers['x-asrs-client-query'], `?hub=chat&id=${connectionToken}&access_token=${token}`);
});

test('JSON invocation: body, and the 200 body relayed as the completion', { timeout: 10000 }, async (t) => {
  const { app, up, emulator } = await setup(t);
  app.respond = (req) => (req.headers['x-asrs-category'] === 'messages'
    ? { status: 200, body: '{"type":3,"invocationId":"0","result":"ok"}\x1e' } : { status: 200 });
  const c = await hubClient(t, emulator, { user: 'alice' });
  assert.equal(await c.connection.invoke('broadcast', 'hello'), 'ok');
  const [req] = messages(up);
  assert.equal(req.url, '/upstream/chat/messages/broadcast?code=abc');
  assert.deepEqual(asrsHeaders(req), {
    ...asrsHeaders(up.requests[0]), 'x-asrs-category': 'messages', 'x-asrs-event': 'broadcast',
  });
  assert.equal(req.headers['content-type'], 'application/json');
  assert.equal(req.body.toString(), '{"type":1,"invocationId":"0","target":"broadcast","arguments":["hello"]}');
});

test('JSON send without id: no invocationId, the answer is ignored', { timeout: 10000 }, async (t) => {
  const { app, up, emulator } = await setup(t);
  app.respond = (req) => ({ status: req.headers['x-asrs-event'] === 'notify' ? 500 : 200 });
  const c = await rawClient(t, emulator);
  c.ws.send('{"type":1,"target":"notify","arguments":[1,{"a":true}]}\x1e');
  c.ws.send('{"type":1,"invocationId":"5","target":"after","arguments":[]}\x1e');
  assert.equal((await c.frames.next()).data.toString(), '{"type":3,"invocationId":"5"}\x1e');
  assert.equal(messages(up)[0].body.toString(), '{"type":1,"target":"notify","arguments":[1,{"a":true}]}');
});

test('completions: 200 body verbatim, 200 empty and 204 void, other statuses errors', { timeout: 10000 }, async (t) => {
  const { app, emulator } = await setup(t);
  const answers = {
    verbatim: { status: 200, body: '{ "type": 3, "invocationId": "1", "result": "spaced" }\x1e' },
    empty: { status: 200, body: '' },
    nocontent: { status: 204 },
    accepted: { status: 202 },
    forbidden: { status: 403 },
    broken: { status: 500, body: 'boom' },
    dropped: 'destroy',
  };
  app.respond = (req) => answers[req.headers['x-asrs-event']] || { status: 200 };
  const c = await rawClient(t, emulator);
  const expected = {
    verbatim: answers.verbatim.body,
    empty: '{"type":3,"invocationId":"1"}\x1e',
    nocontent: '{"type":3,"invocationId":"1"}\x1e',
    accepted: '{"type":3,"invocationId":"1","error":"Invocation failed, status code 202"}\x1e',
    forbidden: '{"type":3,"invocationId":"1","error":"Invocation failed, status code 403"}\x1e',
    broken: '{"type":3,"invocationId":"1","error":"Invocation failed, status code 500"}\x1e',
    dropped: '{"type":3,"invocationId":"1","error":"Invocation failed, status code 500"}\x1e',
  };
  for (const [event, reply] of Object.entries(expected)) {
    c.ws.send(JSON.stringify({ type: 1, invocationId: '1', target: event, arguments: [] }) + '\x1e');
    const frame = await c.frames.next();
    assert.equal(frame.data.toString(), reply, event);
    assert.equal(frame.binary, false);
  }
});

test('a completion body over 16 MiB is refused', { timeout: 10000 }, async (t) => {
  const { app, emulator } = await setup(t);
  const huge = Buffer.alloc(16 * 1024 * 1024 + 1, 0x20);
  app.respond = (req) => (req.headers['x-asrs-category'] === 'messages' ? { status: 200, body: huge } : { status: 200 });
  const c = await rawClient(t, emulator);
  c.ws.send('{"type":1,"invocationId":"9","target":"big","arguments":[]}\x1e');
  assert.equal((await c.frames.next()).data.toString(),
    '{"type":3,"invocationId":"9","error":"Invocation failed, response too large."}\x1e');
});

test('completions through @microsoft/signalr: result, void, error', { timeout: 10000 }, async (t) => {
  const { app, emulator } = await setup(t);
  app.respond = (req) => {
    const id = /"invocationId":"(\d+)"/.exec(req.body.toString())?.[1];
    return {
      answer: { status: 200, body: `{"type":3,"invocationId":"${id}","result":{"n":42}}\x1e` },
      nothing: { status: 204 },
      fail: { status: 500 },
    }[req.headers['x-asrs-event']] || { status: 200 };
  };
  const c = await hubClient(t, emulator);
  assert.deepEqual(await c.connection.invoke('answer'), { n: 42 });
  assert.equal(await c.connection.invoke('nothing'), undefined);
  await assert.rejects(c.connection.invoke('fail'), /Invocation failed, status code 500/);
});

test('MessagePack invocation: exact body bytes, completions relayed', { timeout: 10000 }, async (t) => {
  const { app, up, emulator } = await setup(t);
  app.respond = (req) => ({
    broadcast: { status: 200, body: fromHex('09950380a13003a26f6b') }, // [3,{},"0",3,"ok"]
    fail: { status: 200, body: fromHex('0b950380a13101a4626f6f6d') },  // [3,{},"1",1,"boom"]
    nothing: { status: 204 },
  }[req.headers['x-asrs-event']] || { status: 200 });
  const c = await hubClient(t, emulator, { user: 'bob', protocol: 'messagepack' });
  assert.equal(await c.connection.invoke('broadcast', 'hello'), 'ok');
  await assert.rejects(c.connection.invoke('fail'), /boom/);
  assert.equal(await c.connection.invoke('nothing'), undefined);
  const [req] = messages(up);
  assert.equal(req.headers['content-type'], 'application/x-msgpack');
  assert.equal(req.headers['x-asrs-signature'], signature([KEY, KEY2], c.id));
  assert.equal(req.body.toString('hex'), '960180a130a962726f61646361737491a568656c6c6f90');
  // connected is JSON whatever the client's protocol
  assert.equal(up.requests[0].headers['content-type'], 'application/json');
  const entry = (await eventLog(emulator)).find((e) => e.kind === 'upstream' && e.headers['X-ASRS-Event'] === 'broadcast');
  assert.deepEqual([entry.body, entry.bodyEncoding, entry.status, entry.response],
    [req.body.toString('base64'), 'base64', 200, fromHex('09950380a13003a26f6b').toString('base64')]);
});

test('MessagePack: a 200 body is relayed verbatim in a binary frame; void completion bytes', { timeout: 10000 }, async (t) => {
  const { app, emulator } = await setup(t);
  const body = fromHex('0b950380a13001a4626f6f6d');
  app.respond = (req) => (req.headers['x-asrs-category'] === 'messages'
    ? (req.headers['x-asrs-event'] === 'e' ? { status: 200, body } : { status: 204 }) : { status: 200 });
  const c = await rawClient(t, emulator, { protocol: 'messagepack' });
  c.ws.send(fromHex('08950180a130a16590'));       // [1,{},"0","e",[]]
  let frame = await c.frames.next();
  assert.deepEqual([frame.data.toString('hex'), frame.binary], [body.toString('hex'), true]);
  c.ws.send(fromHex('08950180a130a16690'));       // [1,{},"0","f",[]]
  frame = await c.frames.next();
  assert.equal(frame.data.toString('hex'), '06940380a13002');
});

test('disconnected: clean and abnormal closes, protocol errors', { timeout: 10000 }, async (t) => {
  const { up, emulator } = await setup(t);
  const clean = await hubClient(t, emulator, { user: 'u' });
  await clean.connection.stop();
  let req = await up.next('connections', 'disconnected');
  assert.equal(req.body.toString(), '{"type":11}');
  assert.equal(req.headers['x-asrs-connection-id'], clean.id);
  assert.equal(req.headers['x-asrs-signature'], signature([KEY, KEY2], clean.id));
  assert.equal(req.headers['x-asrs-user-id'], 'u');

  let from = up.requests.length;
  const abrupt = await rawClient(t, emulator);
  abrupt.ws.terminate();
  req = await up.next('connections', 'disconnected', from);
  assert.equal(req.headers['x-asrs-connection-id'], abrupt.id);
  assert.equal(req.body.toString(), '{"type":11,"error":"WebSocket closed with status code 1006."}');

  from = up.requests.length;
  const bad = await rawClient(t, emulator);
  bad.ws.send('{"type":1}\x1e');
  req = await up.next('connections', 'disconnected', from);
  assert.equal(req.body.toString(), '{"type":11,"error":"Invocation without a string \\"target\\"."}');
});

test('upstream calls of a connection are made one at a time, in order', { timeout: 10000 }, async (t) => {
  const { app, up, emulator } = await setup(t);
  const answered = {};
  app.respond = async (req) => {
    const event = req.headers['x-asrs-event'];
    req.receivedAt = Date.now();
    if (event === 'connected' || event === 'slow') await new Promise((r) => setTimeout(r, 100));
    answered[event] = Date.now();
    return { status: 200 };
  };
  const c = await rawClient(t, emulator);
  for (const target of ['slow', 'fast1', 'fast2']) c.ws.send(JSON.stringify({ type: 1, target, arguments: [] }) + '\x1e');
  c.ws.close();
  await up.next('connections', 'disconnected');
  assert.deepEqual(up.requests.map((r) => r.headers['x-asrs-event']), ['connected', 'slow', 'fast1', 'fast2', 'disconnected']);
  for (let i = 1; i < up.requests.length; i++) {
    const previous = up.requests[i - 1].headers['x-asrs-event'];
    assert.ok(up.requests[i].receivedAt >= answered[previous], `${up.requests[i].headers['x-asrs-event']} before ${previous} was answered`);
  }
});

test('connected answered with 403: the client is closed, nothing more goes upstream', { timeout: 10000 }, async (t) => {
  const { app, up, emulator } = await setup(t);
  app.respond = (req) => ({ status: req.headers['x-asrs-event'] === 'connected' ? 403 : 200 });
  const c = await hubClient(t, emulator, { user: 'u' });
  const error = await c.closed.next();
  assert.match(error.message, /Connection refused by the upstream server\./);

  const raw = await rawClient(t, emulator);
  raw.ws.send('{"type":1,"target":"early","arguments":[]}\x1e');
  assert.equal((await raw.frames.next()).data.toString(), '{"type":7,"error":"Connection refused by the upstream server."}\x1e');
  await waitFor(async () => (await eventLog(emulator)).filter((e) => e.kind === 'disconnect').length === 2, 'both disconnects');
  const log = await eventLog(emulator);
  assert.deepEqual(log.filter((e) => e.kind === 'upstream').map((e) => e.headers['X-ASRS-Event']), ['connected', 'connected']);
  assert.deepEqual(up.requests.map((r) => r.headers['x-asrs-event']), ['connected', 'connected']);
  assert.deepEqual(JSON.parse((await request(emulator.port, 'GET', '/_emulator/connections')).body), []);
});

test('an unreachable upstream refuses connections too', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, { upstream: 'http://127.0.0.1:1/{event}' });
  const c = await hubClient(t, emulator);
  assert.match((await c.closed.next()).message, /refused/);
  const entry = (await eventLog(emulator)).find((e) => e.kind === 'upstream');
  assert.equal(entry.status, 500);
  assert.match(entry.error, /ECONNREFUSED/);
});

test('upstream key modes', { timeout: 10000 }, async (t) => {
  for (const [mode, keys] of [['both', [KEY, KEY2]], ['key', [KEY]], ['key2', [KEY2]], ['none', []]]) {
    const { up, emulator } = await setup(t, { upstreamKeyMode: mode });
    const c = await hubClient(t, emulator);
    const req = await up.next('connections', 'connected');
    assert.equal(req.headers['x-asrs-signature'], keys.length ? signature(keys, c.id) : undefined, mode);
  }
  const { up, emulator } = await setup(t, { key2: undefined });
  const c = await hubClient(t, emulator);
  assert.equal((await up.next('connections', 'connected')).headers['x-asrs-signature'], signature([KEY], c.id));
});

test('event names are escaped in the URL; header values are UTF-8', { timeout: 10000 }, async (t) => {
  const { up, emulator } = await setup(t);
  const c = await hubClient(t, emulator, { user: 'José' });
  await c.connection.send('say hi/(now)');
  await waitFor(() => messages(up).length === 1, 'the message');
  const [req] = messages(up);
  assert.equal(req.url, '/upstream/chat/messages/say%20hi%2F%28now%29?code=abc');
  assert.equal(req.headers['x-asrs-event'], 'say hi/(now)');
  assert.equal(Buffer.from(req.headers['x-asrs-user-id'], 'latin1').toString('utf8'), 'José');
});

test('an invalid upstream URL is refused at start', () => {
  const { Emulator } = require('../emulator');
  assert.throws(() => new Emulator({ upstream: 'not a url' }));
  assert.throws(() => new Emulator({ upstream: 'ftp://127.0.0.1/{event}' }), /http or https/);
  assert.throws(() => new Emulator({ upstream: 'http://127.0.0.1/', upstreamKeyMode: 'key2' }), /key2/);
  assert.throws(() => new Emulator({ upstream: 'http://127.0.0.1/', upstreamKeyMode: 'primary' }), /key mode/);
});
