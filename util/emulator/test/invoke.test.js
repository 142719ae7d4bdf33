'use strict';
// Client invocation over REST (POST .../connections/{id}/:invoke, 2024-12-01):
// the Invocation the client gets, the answers for a result, an error, no
// answer, a missing connection, a client that goes, a caller that goes.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const msgpack = require('@msgpack/msgpack');
const { restToken, startEmulator, rest, hubClient, rawClient, waitFor, eventLog } = require('./helpers');

const V = '?api-version=2024-12-01';
const invokePath = (id, hub = 'chat') => `/api/hubs/${hub}/connections/${encodeURIComponent(id)}/:invoke`;
const invoke = (emulator, id, body, { hub, query = V, headers } = {}) =>
  rest(emulator, 'POST', `${invokePath(id, hub)}${query}`, { body, headers });

// The ErrorDetail answer: status, x-ms-error-code, body code; returns the body.
function assertError(r, status, code) {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['x-ms-error-code'], code);
  assert.match(r.headers['content-type'], /^application\/json/);
  const body = JSON.parse(r.body);
  assert.equal(body.code, code);
  assert.equal(typeof body.message, 'string');
  return body;
}

function assertResult(r, expected) {
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /^application\/json/);
  assert.equal(r.headers['x-ms-error-code'], undefined);
  assert.deepEqual(JSON.parse(r.body), expected);
}

// A framed MessagePack hub message (bodies under 128 bytes).
function msgpackFrame(value) {
  const body = Buffer.from(msgpack.encode(value));
  assert.ok(body.length < 128);
  return Buffer.concat([Buffer.from([body.length]), body]);
}

// The next Invocation a raw client receives, decoded.
async function nextInvocation(client, protocol) {
  const { data } = await client.frames.next();
  if (protocol === 'json') {
    assert.equal(data.at(-1), 0x1e);
    return JSON.parse(data.subarray(0, -1).toString('utf8'));
  }
  assert.equal(data[0], data.length - 1, 'one frame with a one-byte length prefix');
  const [type, headers, invocationId, target, args] = msgpack.decode(data.subarray(1));
  return { type, headers, invocationId, target, arguments: args };
}

for (const protocol of ['json', 'messagepack']) {
  test(`${protocol}: the client's result is the answer`, { timeout: 20000 }, async (t) => {
    const emulator = await startEmulator(t);
    const c = await hubClient(t, emulator, { user: 'u', protocol });
    c.connection.on('add', (a, b) => a + b);
    c.connection.on('echo', (...args) => args);
    c.connection.on('later', (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms)));
    c.connection.on('nothing', () => null);

    assertResult(await invoke(emulator, c.id, { target: 'add', arguments: [2, 3] }), { result: 5 });
    const args = ['é', 1.5, { a: [1, null, true], b: {} }, [], null, false];
    assertResult(await invoke(emulator, c.id, { target: 'echo', arguments: args }), { result: args });
    assertResult(await invoke(emulator, c.id, { target: 'nothing', arguments: [] }), { result: null });
    // member names in any case, arguments optional (as for :send)
    assertResult(await invoke(emulator, c.id, { Target: 'echo' }), { result: [] });
    assertResult(await invoke(emulator, c.id, { target: 'echo', arguments: null }), { result: [] });
    // handler names are matched without case by the client
    assertResult(await invoke(emulator, c.id, { target: 'ADD', arguments: [1, 1] }), { result: 2 });

    // two at once on one connection, answered in the other order
    const [slow, fast] = await Promise.all([
      invoke(emulator, c.id, { target: 'later', arguments: [150, 'slow'] }),
      invoke(emulator, c.id, { target: 'later', arguments: [10, 'fast'] }),
    ]);
    assertResult(slow, { result: 'slow' });
    assertResult(fast, { result: 'fast' });

    // what went over the wire: Invocations with distinct ids, Completions taken
    const log = await eventLog(emulator);
    const sent = log.filter((e) => e.kind === 'client.send' && e.connectionId === c.id).map((e) => e.message);
    assert.equal(sent.length, 8);
    assert.ok(sent.every((m) => m.type === 1 && typeof m.invocationId === 'string'));
    assert.equal(new Set(sent.map((m) => m.invocationId)).size, 8);
    assert.deepEqual(sent[0], { type: 1, invocationId: sent[0].invocationId, target: 'add', arguments: [2, 3] });
    const completions = log.filter((e) => e.kind === 'client.receive' && e.message.type === 3);
    assert.equal(completions.length, 8);
    assert.ok(completions.every((e) => e.dropped === undefined));
    const calls = log.filter((e) => e.kind === 'rest');
    assert.deepEqual(calls.map((e) => e.status), Array(8).fill(200));
    assert.deepEqual(new Set(calls.map((e) => e.invocationId)), new Set(sent.map((m) => m.invocationId)));
  });

  test(`${protocol}: the client's error`, { timeout: 10000 }, async (t) => {
    const emulator = await startEmulator(t);
    const c = await hubClient(t, emulator, { protocol });
    c.connection.on('fail', () => {
      throw new Error('boom');
    });
    c.connection.on('reject', () => Promise.reject(new Error('later boom')));
    c.connection.on('undef', () => undefined);
    const failed = async (target, message) => {
      const body = assertError(await invoke(emulator, c.id, { target, arguments: [] }), 500, 'Error.Invocation.Failed');
      assert.equal(body.message, message);
    };
    await failed('fail', 'Error: boom');
    await failed('reject', 'Error: later boom');
    // @microsoft/signalr's own errors: no handler, or no value returned
    await failed('missing', "Client didn't provide a result.");
    await failed('undef', "Client didn't provide a result.");
    // the connection is still there and answers
    c.connection.on('ok', () => 'ok');
    assertResult(await invoke(emulator, c.id, { target: 'ok' }), { result: 'ok' });
  });

  test(`${protocol} raw client: void, binary and late completions`, { timeout: 10000 }, async (t) => {
    const emulator = await startEmulator(t, { invokeTimeout: 0.3 });
    const c = await rawClient(t, emulator, { protocol });
    const answer = (invocationId, kind, value) => {
      if (protocol === 'json') {
        const m = { type: 3, invocationId };
        if (kind === 'error') m.error = value;
        if (kind === 'result') m.result = value;
        c.ws.send(`${JSON.stringify(m)}\x1e`);
      } else {
        const m = [3, {}, invocationId, { error: 1, void: 2, result: 3 }[kind]];
        if (kind !== 'void') m.push(value);
        c.ws.send(msgpackFrame(m));
      }
    };

    let pending = invoke(emulator, c.id, { target: 'v', arguments: [1, 'two'] });
    let m = await nextInvocation(c, protocol);
    assert.equal(m.type, 1);
    assert.equal(m.target, 'v');
    assert.deepEqual(m.arguments, [1, 'two']);
    assert.match(m.invocationId, /^\S+$/);
    answer(m.invocationId, 'void');
    assertResult(await pending, {});

    if (protocol === 'messagepack') {
      pending = invoke(emulator, c.id, { target: 'bin' });
      m = await nextInvocation(c, protocol);
      answer(m.invocationId, 'result', { data: new Uint8Array([1, 2, 255]), n: 7 });
      assertResult(await pending, { result: { data: 'AQL/', n: 7 } });
    }

    // a completion for another id is ignored; the call then times out
    pending = invoke(emulator, c.id, { target: 'slow' });
    m = await nextInvocation(c, protocol);
    answer(`${m.invocationId}x`, 'result', 1);
    assertError(await pending, 504, 'Error.Invocation.Timeout');
    // the late answer goes nowhere, and the connection stays
    answer(m.invocationId, 'result', 2);
    const log = await waitFor(async () => {
      const entries = (await eventLog(emulator)).filter((e) => e.kind === 'client.receive' && e.message.type === 3);
      return entries.length === 4 - (protocol === 'json' ? 1 : 0) && entries;
    }, 'the completions in the log');
    assert.deepEqual(log.slice(-2).map((e) => e.dropped), ['no REST invocation waits for it', 'no REST invocation waits for it']);
    assert.equal((await rest(emulator, 'HEAD', `/api/hubs/chat/connections/${c.id}${V}`)).status, 200);

    // an error completion
    pending = invoke(emulator, c.id, { target: 'e' });
    m = await nextInvocation(c, protocol);
    answer(m.invocationId, 'error', 'it failed');
    assert.equal(assertError(await pending, 500, 'Error.Invocation.Failed').message, 'it failed');
  });
}

test('a malformed Completion closes the connection like any bad message', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const bad = [
    ['json', '{"type":3}\x1e'],
    ['json', '{"type":3,"invocationId":1}\x1e'],
    ['json', '{"type":3,"invocationId":"1","error":5}\x1e'],
    ['messagepack', msgpackFrame([3, {}, '1'])],
    ['messagepack', msgpackFrame([3, {}, 1, 2])],
    ['messagepack', msgpackFrame([3, {}, '1', 1, 5])],
    ['messagepack', msgpackFrame([3, {}, '1', 3])],
    ['messagepack', msgpackFrame([3, {}, '1', 2, 'extra'])],
    ['messagepack', msgpackFrame([3, {}, '1', 4, 'x'])],
    ['messagepack', msgpackFrame([3, [], '1', 2])],
  ];
  for (const [protocol, bytes] of bad) {
    const c = await rawClient(t, emulator, { protocol });
    const pending = invoke(emulator, c.id, { target: 't' });
    await c.frames.next(); // the invocation
    c.ws.send(bytes);
    assertError(await pending, 500, 'Error.Invocation.Disconnected');
    assert.equal(await c.closed.next(), 1000, String(bytes));
  }
});

test('the client never answers: 504 after --invoke-timeout', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, { invokeTimeout: 0.25 });
  const c = await hubClient(t, emulator);
  c.connection.on('hang', () => new Promise(() => {}));
  const started = Date.now();
  const body = assertError(await invoke(emulator, c.id, { target: 'hang' }), 504, 'Error.Invocation.Timeout');
  const took = Date.now() - started;
  assert.ok(took >= 240 && took < 2000, `${took} ms`);
  assert.match(body.message, /0\.25 s/);
  assert.throws(() => new (require('../emulator').Emulator)({ invokeTimeout: 0 }), /--invoke-timeout/);
  assert.throws(() => new (require('../emulator').Emulator)({ invokeTimeout: -1 }), /--invoke-timeout/);
});

test('no such connection: 404 Error.Connection.NotExisted', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const c = await hubClient(t, emulator, { hub: 'chat' });
  assertError(await invoke(emulator, 'nope', { target: 't' }), 404, 'Error.Connection.NotExisted');
  // the connection of another hub, or of the hub under an application
  assertError(await invoke(emulator, c.id, { target: 't' }, { hub: 'other' }), 404, 'Error.Connection.NotExisted');
  assertError(await invoke(emulator, c.id, { target: 't' }, { query: `${V}&application=app` }), 404, 'Error.Connection.NotExisted');
  // the hub name is not case-sensitive
  c.connection.on('t', () => 1);
  assertResult(await invoke(emulator, c.id, { target: 't' }, { hub: 'Chat' }), { result: 1 });
  // gone after it closed
  await c.connection.stop();
  await waitFor(async () => (await invoke(emulator, c.id, { target: 't' })).status === 404, 'the connection to go');
  const log = await eventLog(emulator);
  assert.equal(log.filter((e) => e.kind === 'client.send' && e.message.type === 1).length, 1, 'only the answered one was sent');
});

test('the client goes during the call: 500 Error.Invocation.Disconnected', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  // the client stops itself
  const a = await hubClient(t, emulator, { protocol: 'messagepack' });
  a.connection.on('leave', () => {
    setTimeout(() => a.connection.stop(), 10);
    return new Promise(() => {});
  });
  assertError(await invoke(emulator, a.id, { target: 'leave' }), 500, 'Error.Invocation.Disconnected');
  // the connection drops (no close handshake)
  const b = await rawClient(t, emulator);
  let pending = invoke(emulator, b.id, { target: 'x' });
  await b.frames.next();
  b.ws.terminate();
  assertError(await pending, 500, 'Error.Invocation.Disconnected');
  // the app closes it through REST meanwhile (detailed errors: the client sees the reason)
  const c = await hubClient(t, emulator, { claims: { 'asrs.s.derror': 'True' } });
  c.connection.on('wait', () => new Promise(() => {}));
  pending = invoke(emulator, c.id, { target: 'wait' });
  await waitFor(async () => (await eventLog(emulator)).some((e) => e.kind === 'client.send' && e.connectionId === c.id),
    'the invocation');
  assert.equal((await rest(emulator, 'DELETE', `/api/hubs/chat/connections/${c.id}${V}&reason=bye`)).status, 200);
  assertError(await pending, 500, 'Error.Invocation.Disconnected');
  assert.match((await c.closed.next()).message, /bye/);
});

test('the caller goes away: the wait ends, a late completion is dropped', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const c = await rawClient(t, emulator);
  const path = `${invokePath(c.id)}${V}`;
  const req = http.request({
    host: '127.0.0.1', port: emulator.port, method: 'POST', path, agent: false,
    headers: { Authorization: `Bearer ${restToken(invokePath(c.id), { aud: `http://127.0.0.1${invokePath(c.id)}` })}`, 'Content-Type': 'application/json' },
  });
  req.on('error', () => {});
  req.end(JSON.stringify({ target: 't' }));
  const m = await nextInvocation(c, 'json');
  req.destroy();
  await waitFor(async () => (await eventLog(emulator)).some((e) => e.kind === 'rest' && e.status === 'aborted'), 'the aborted call');
  c.ws.send(`${JSON.stringify({ type: 3, invocationId: m.invocationId, result: 1 })}\x1e`);
  const completion = await waitFor(async () => (await eventLog(emulator)).find((e) => e.kind === 'client.receive'), 'the completion');
  assert.equal(completion.dropped, 'no REST invocation waits for it');
  const call = (await eventLog(emulator)).find((e) => e.kind === 'rest');
  assert.equal(call.invocationId, m.invocationId);
});

test(':invoke input', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  const c = await hubClient(t, emulator);
  const invalid = async (body, target, options) => {
    const r = await invoke(emulator, c.id, body, options);
    assert.equal(assertError(r, 400, 'Error.Request.Invalid').target, target, r.body);
  };
  await invalid({ arguments: [] }, 'target');
  await invalid({ target: '' }, 'target');
  await invalid({ target: 7 }, 'target');
  await invalid({ target: 't', arguments: 'x' }, 'arguments');
  await invalid({ target: 't', arguments: { 0: 1 } }, 'arguments');
  await invalid('{"target":', 'body');
  await invalid('[]', 'body');
  await invalid('null', 'body');
  // the api-version: required, and 2024-12-01 or later (V20230701.json has no :invoke)
  await invalid({ target: 't' }, 'api-version', { query: '' });
  await invalid({ target: 't' }, 'api-version', { query: '?api-version=2022-06-01' });
  await invalid({ target: 't' }, 'api-version', { query: '?api-version=2023-07-01' });
  await invalid({ target: 't' }, 'api-version', { query: '?api-version=2024-11-30' });
  await invalid({ target: 't' }, 'api-version', { query: '?api-version=latest' });
  await invalid({ target: 't' }, 'hub', { hub: '1chat' });
  await invalid({ target: 't' }, 'application', { query: `${V}&application=1app` });
  const text = await invoke(emulator, c.id, JSON.stringify({ target: 't' }), { headers: { 'Content-Type': 'text/plain' } });
  assert.equal(text.status, 415);
  const big = await invoke(emulator, c.id, { target: 't', arguments: ['x'.repeat(1024 * 1024)] });
  assert.equal(big.status, 413);
  const wrongMethod = await rest(emulator, 'GET', `${invokePath(c.id)}${V}`);
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.allow, 'POST');
  // none of these reached the client
  const log = await eventLog(emulator);
  assert.equal(log.filter((e) => e.kind === 'client.send').length, 0);
  // later versions, previews included, are accepted
  c.connection.on('t', () => 'ok');
  for (const version of ['2024-12-01', '2025-06-01', '2026-01-01-preview']) {
    assertResult(await invoke(emulator, c.id, { target: 't' }, { query: `?api-version=${version}` }), { result: 'ok' });
  }
});
