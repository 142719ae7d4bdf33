'use strict';
// The output actions that have an answer of their own (invoke, exists,
// listConnections), closeConnections, several recipients in one action, and
// a templated exists location as an auth_request rule, end to end: real
// @microsoft/signalr clients (JSON and MessagePack) negotiate through nginx
// and connect to the emulator; actions are POSTed to a signalr_output
// location, whose REST calls reach the emulator (docs/output.md).

const test = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator, startNginx, fetchWithTimeout, sleep } = require('./lib/stack');
const { connect, WAIT } = require('./lib/clients');
const { actions } = require('./lib/confs');

const PROTOCOLS = ['json', 'messagepack'];
const APP_TEXT = 'welcome, connected user\n';

async function stack(t, name, { emulatorArgs = [], restReadTimeout } = {}) {
  const emulator = await startEmulator(t, { name, args: emulatorArgs });
  const nginx = await startNginx(t, {
    name,
    conf: actions(emulator.url, { restReadTimeout }),
    env: { AzureSignalRConnectionString: emulator.connectionString },
    files: { 'html/app.txt': APP_TEXT },
  });
  // POSTs one action (or an array) to the output location: { status, body }
  async function post(action) {
    const res = await fetchWithTimeout(`${nginx.url}/actions/chat`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(action),
    });
    const text = await res.text();
    assert.match(res.headers.get('content-type'), /^application\/json/, `${res.status} ${text}`);
    return { status: res.status, body: JSON.parse(text) };
  }
  return { emulator, nginx, api: `${nginx.url}/api`, detailed: `${nginx.url}/detailed`, post };
}

// The failure body of a single action at the one endpoint (docs/output.md,
// "Status codes"); the endpoint is named by its host.
function failure(error, status, errorCode, detail) {
  return {
    error, ...(detail === undefined ? {} : { detail }),
    failed: 0, endpoint: '127.0.0.1', status, errorCode, completed: 0, total: 1,
  };
}

const ANSWERED = { status: 202, body: { completed: 1, total: 1 } };
const THERE = { status: 200, body: { exists: true } };
const NOT_THERE = { status: 404, body: { exists: false } };

// A connected client whose id stays known after it is closed (the client
// forgets its connectionId when it stops).
async function open(t, baseUrl, options) {
  const client = await connect(t, baseUrl, options);
  Object.defineProperty(client, 'id', { value: client.id });
  return client;
}

// Polls check() until it is true; fails after ms.
async function until(what, check, ms = WAIT) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(50);
  }
}

// Every client receives a fresh marker, broadcast after the messages under
// test: messages to a connection arrive in order, so a client that has the
// marker would have had them too.
let markers = 0;
async function settle(post, clients) {
  const marker = `marker-${++markers}`;
  assert.deepEqual(await post({ target: 'newMessage', arguments: [marker] }), ANSWERED);
  await Promise.all(clients.map((c) => c.waitFor((m) => m.args[0] === marker, marker)));
}

// The newMessage argument lists a client received, without markers.
const got = (client) => client.texts().filter((args) => !String(args[0]).startsWith('marker-'));

// The :invoke REST calls the emulator received for a connection.
async function invokeCalls(emulator, connectionId) {
  const path = `/api/hubs/chat/connections/${connectionId}/:invoke`;
  return (await emulator.log()).filter((e) => e.kind === 'rest' && e.path === path);
}

// The invocations the emulator sent a connection (with an invocationId).
async function invocationsSent(emulator, connectionId, target) {
  return (await emulator.log()).filter((e) => e.kind === 'client.send' && e.connectionId === connectionId
    && e.message && e.message.type === 1 && e.message.target === target);
}

test('invoke: the client\'s handler answers through nginx and the service', { timeout: 120000 }, async (t) => {
  const { emulator, api, post } = await stack(t, 'actions-invoke');
  const invoke = (connectionId, target, args) => post({
    action: 'invoke', connectionId, target, ...(args === undefined ? {} : { arguments: args }),
  });

  for (const protocol of PROTOCOLS) {
    await t.test(`${protocol}: the handler's return value is the result`, async (t) => {
      const c = await open(t, api, { user: `answers-${protocol}`, protocol });
      c.connection.on('getAnswer', (a) => a + 1);
      c.connection.on('describe', (o) => ({ got: o, list: [1, 'two', null, true, -2.5], text: 'é😀' }));
      c.connection.on('nothing', () => null);
      c.connection.on('later', async (a) => `${a}, awaited`);
      assert.deepEqual(await invoke(c.id, 'getAnswer', [41]), { status: 200, body: { result: 42 } });
      assert.deepEqual(await invoke(c.id, 'describe', [{ n: -7, s: 'x' }]), {
        status: 200, body: { result: { got: { n: -7, s: 'x' }, list: [1, 'two', null, true, -2.5], text: 'é😀' } },
      });
      assert.deepEqual(await invoke(c.id, 'nothing'), { status: 200, body: { result: null } });
      assert.deepEqual(await invoke(c.id, 'later', ['sent']), { status: 200, body: { result: 'sent, awaited' } });
      // each invoke was one REST call and one invocation of the client
      const calls = await invokeCalls(emulator, c.id);
      assert.deepEqual(calls.map((e) => [JSON.parse(e.body).target, e.status]),
        [['getAnswer', 200], ['describe', 200], ['nothing', 200], ['later', 200]]);
      assert.equal(c.closed, null);
    });

    await t.test(`${protocol}: a handler that throws is a 502 with the client's error as detail, sent once`, async (t) => {
      const c = await open(t, api, { user: `throws-${protocol}`, protocol });
      c.connection.on('getLocation', () => {
        throw new Error('no location for you');
      });
      c.connection.on('getNothing', () => undefined);
      c.connection.on('getAnswer', (a) => a + 1);
      assert.deepEqual(await invoke(c.id, 'getLocation', ['precise']), {
        status: 502,
        body: failure('invoke: the invocation failed', 500, 'Error.Invocation.Failed', 'Error: no location for you'),
      });
      // what @microsoft/signalr answers for a handler without a value, or no handler
      for (const target of ['getNothing', 'noSuchHandler']) {
        assert.deepEqual(await invoke(c.id, target), {
          status: 502,
          body: failure('invoke: the invocation failed', 500, 'Error.Invocation.Failed', 'Client didn\'t provide a result.'),
        }, target);
      }
      // never retried: one REST call and one invocation each
      const calls = await invokeCalls(emulator, c.id);
      assert.deepEqual(calls.map((e) => [JSON.parse(e.body).target, e.status]),
        [['getLocation', 500], ['getNothing', 500], ['noSuchHandler', 500]]);
      assert.equal((await invocationsSent(emulator, c.id, 'getLocation')).length, 1);
      // the connection is still there and answers
      assert.deepEqual(await invoke(c.id, 'getAnswer', [1]), { status: 200, body: { result: 2 } });
      assert.equal(c.closed, null);
    });

    await t.test(`${protocol}: the client stops while the invocation waits: 502`, async (t) => {
      const c = await open(t, api, { user: `stops-${protocol}`, protocol });
      c.connection.on('wait', () => new Promise(() => {}));
      const pending = invoke(c.id, 'wait');
      await until('the invocation to reach the client',
        async () => (await invocationsSent(emulator, c.id, 'wait')).length === 1);
      await c.stop();
      assert.deepEqual(await pending, {
        status: 502,
        body: failure('invoke: the invocation failed', 500, 'Error.Invocation.Disconnected',
          'The connection closed before the client completed the invocation.'),
      });
    });
  }

  await t.test('a connection that is not there: 404', async (t) => {
    const gone = await open(t, api, { user: 'gone' });
    await gone.stop();
    await until('the stopped connection to go', async () => (await post({ action: 'exists', connectionId: gone.id })).status === 404);
    for (const id of ['never-connected-0123456789', gone.id]) {
      assert.deepEqual(await invoke(id, 'getAnswer', [1]), {
        status: 404,
        body: failure('invoke: the connection is not there', 404, 'Error.Connection.NotExisted', 'The connection does not exist.'),
      }, id);
    }
  });
});

test('invoke: a client that never answers, the service times out: 504', { timeout: 60000 }, async (t) => {
  // the emulator answers 504 Error.Invocation.Timeout after --invoke-timeout
  const { emulator, api, post } = await stack(t, 'actions-invoke-timeout', { emulatorArgs: ['--invoke-timeout', '2'] });
  for (const protocol of PROTOCOLS) {
    await t.test(protocol, async (t) => {
      const c = await open(t, api, { user: `silent-${protocol}`, protocol });
      c.connection.on('never', () => new Promise(() => {}));
      c.connection.on('getAnswer', (a) => a + 1);
      assert.deepEqual(await post({ action: 'invoke', connectionId: c.id, target: 'never', arguments: ['x'] }), {
        status: 504,
        body: failure('invoke: the client did not answer in time', 504, 'Error.Invocation.Timeout',
          'The client did not complete the invocation within 2 s.'),
      });
      const calls = await invokeCalls(emulator, c.id);
      assert.deepEqual(calls.map((e) => e.status), [504], 'one call, not retried');
      assert.equal((await invocationsSent(emulator, c.id, 'never')).length, 1);
      // the client is still connected and answers the next one
      assert.deepEqual(await post({ action: 'invoke', connectionId: c.id, target: 'getAnswer', arguments: [9] }),
        { status: 200, body: { result: 10 } });
      assert.equal(c.closed, null);
    });
  }
});

test('invoke: a client that never answers, the REST location times out: 504', { timeout: 60000 }, async (t) => {
  // the emulator would wait 100 s; nginx's proxy_read_timeout ends it first
  const { emulator, nginx, api, post } = await stack(t, 'actions-invoke-read-timeout', { restReadTimeout: '1s' });
  for (const protocol of PROTOCOLS) {
    await t.test(protocol, async (t) => {
      const c = await open(t, api, { user: `slow-${protocol}`, protocol });
      c.connection.on('never', () => new Promise(() => {}));
      c.connection.on('getAnswer', (a) => a + 1);
      assert.deepEqual(await post({ action: 'invoke', connectionId: c.id, target: 'never' }), {
        status: 504,
        body: failure('invoke: the client did not answer in time', 504, null),
      });
      // nginx gave up on the call (the emulator saw the caller go) and did
      // not send it again: the client was invoked once
      await until('the emulator to see the caller go',
        async () => (await invokeCalls(emulator, c.id)).some((e) => e.status === 'aborted'));
      assert.deepEqual((await invokeCalls(emulator, c.id)).map((e) => e.status), ['aborted']);
      assert.equal((await invocationsSent(emulator, c.id, 'never')).length, 1);
      assert.match(nginx.errorLog(), /upstream timed out/);
      // the endpoint still takes calls
      assert.deepEqual(await post({ action: 'invoke', connectionId: c.id, target: 'getAnswer', arguments: [1] }),
        { status: 200, body: { result: 2 } });
    });
  }
});

test('exists: users, connections and groups, before, while and after a client is connected', { timeout: 60000 }, async (t) => {
  const { api, post } = await stack(t, 'actions-exists');
  for (const protocol of PROTOCOLS) {
    await t.test(protocol, async (t) => {
      const user = `exists-${protocol}`;
      const group = `exists-group-${protocol}`;
      const exists = (what) => post({ action: 'exists', ...what });

      assert.deepEqual(await exists({ userId: user }), NOT_THERE);
      assert.deepEqual(await exists({ connectionId: `no-connection-${protocol}` }), NOT_THERE);
      assert.deepEqual(await exists({ groupName: group }), NOT_THERE);
      assert.deepEqual(await exists({ userId: user, groupName: group }), NOT_THERE);

      const c = await open(t, api, { user, protocol });
      assert.deepEqual(await exists({ userId: user }), THERE);
      assert.deepEqual(await exists({ connectionId: c.id }), THERE);
      assert.deepEqual(await exists({ groupName: group }), NOT_THERE, 'nobody in the group yet');
      assert.deepEqual(await exists({ userId: user, groupName: group }), NOT_THERE);
      assert.deepEqual(await post({ action: 'add', userId: user, groupName: group }), ANSWERED);
      assert.deepEqual(await exists({ groupName: group }), THERE);
      assert.deepEqual(await exists({ userId: user, groupName: group }), THERE);
      // ids are case-sensitive
      assert.deepEqual(await exists({ userId: user.toUpperCase() }), NOT_THERE);

      await c.stop();
      await until('the user to have no connection', async () => (await exists({ userId: user })).status === 404);
      assert.deepEqual(await exists({ userId: user }), NOT_THERE);
      assert.deepEqual(await exists({ connectionId: c.id }), NOT_THERE);
      assert.deepEqual(await exists({ groupName: group }), NOT_THERE, 'a group with no connection');
      // the user's membership outlives its connections (docs/emulator.md)
      assert.deepEqual(await exists({ userId: user, groupName: group }), THERE);
    });
  }
});

test('closeConnections: a group\'s clients are closed, excluded ones and others stay', { timeout: 60000 }, async (t) => {
  const { api, detailed, post } = await stack(t, 'actions-close');
  const group = 'closing-room';
  // plain clients, clients whose token allows detailed errors, in both protocols
  const plain = [
    await open(t, api, { user: 'plain-json', protocol: 'json' }),
    await open(t, api, { user: 'plain-msgpack', protocol: 'messagepack' }),
  ];
  const told = [
    await open(t, detailed, { user: 'told-json', protocol: 'json' }),
    await open(t, detailed, { user: 'told-msgpack', protocol: 'messagepack' }),
  ];
  const kept = await open(t, detailed, { user: 'kept', protocol: 'messagepack' });
  const outside = await open(t, detailed, { user: 'outside', protocol: 'json' });
  const members = [...plain, ...told, kept];
  const added = await post({ action: 'add', groupName: group, connectionIds: members.map((c) => c.id) });
  assert.equal(added.status, 202, JSON.stringify(added.body));

  assert.deepEqual(await post({
    action: 'closeConnections', groupName: group, excluded: [kept.id], reason: 'maintenance now',
  }), ANSWERED);

  // the reason reaches only the clients with detailed errors (asrs.s.derror)
  for (const c of plain) assert.equal(await c.waitClosed(), true, `${c.name}: closed without an error`);
  for (const c of told) {
    const error = await c.waitClosed();
    assert.equal(error.message, 'Server returned an error on close: maintenance now', c.name);
  }
  for (const c of [...plain, ...told]) {
    await until(`${c.name} to be gone`, async () => (await post({ action: 'exists', connectionId: c.id })).status === 404);
  }
  // the excluded member and the client outside the group are still connected
  for (const c of [kept, outside]) {
    assert.deepEqual(await post({ action: 'exists', connectionId: c.id }), THERE, c.name);
  }
  await settle(post, [kept, outside]);
  assert.equal(kept.closed, null);
  assert.equal(outside.closed, null);

  await t.test('a user\'s connections, without a reason', async (t) => {
    const mine = [
      await open(t, detailed, { user: 'leaving', protocol: 'json', name: 'leaving1' }),
      await open(t, api, { user: 'leaving', protocol: 'messagepack', name: 'leaving2' }),
    ];
    assert.deepEqual(await post({ action: 'closeConnections', userId: 'leaving' }), ANSWERED);
    for (const c of mine) assert.equal(await c.waitClosed(), true, c.name);
    await until('the user to have no connection', async () => (await post({ action: 'exists', userId: 'leaving' })).status === 404);
    await settle(post, [kept, outside]);
  });

  await t.test('the whole hub, with excluded', async () => {
    assert.deepEqual(await post({ action: 'closeConnections', excluded: [kept.id], reason: 'everyone out' }), ANSWERED);
    assert.equal((await outside.waitClosed()).message, 'Server returned an error on close: everyone out');
    await settle(post, [kept]);
    assert.equal(kept.closed, null);
    assert.deepEqual(await post({ action: 'exists', connectionId: kept.id }), THERE);
  });
});

test('listConnections: a group\'s members', { timeout: 120000 }, async (t) => {
  const { emulator, api, post } = await stack(t, 'actions-list');
  const list = (groupName) => post({ action: 'listConnections', groupName });
  // as the module answers them: ordered as the service gives them (by id)
  const entries = (clients) => clients.map((c) => ({ connectionId: c.id, userId: c.user }))
    .sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1));
  const listCalls = async (group) => (await emulator.log())
    .filter((e) => e.kind === 'rest' && e.path === `/api/hubs/chat/groups/${group}/connections`);

  await t.test('members of both protocols, with and without a user', async (t) => {
    const clients = [];
    for (const [user, protocol] of [['lu1', 'json'], ['lu2', 'messagepack'], [undefined, 'json'], ['lu1', 'messagepack']]) {
      const c = await open(t, api, { user, protocol, name: `${user}-${protocol}` });
      c.user = user ?? null;
      clients.push(c);
    }
    const outsider = await open(t, api, { user: 'lu3' });
    assert.deepEqual(await list('members'), { status: 200, body: { connections: [] } });
    const added = await post({ action: 'add', groupName: 'members', connectionIds: clients.map((c) => c.id) });
    assert.equal(added.status, 202, JSON.stringify(added.body));
    assert.deepEqual(await list('members'), { status: 200, body: { connections: entries(clients) } });

    // one leaves the group, one disconnects
    const [left, stopped, ...rest] = clients;
    assert.deepEqual(await post({ action: 'remove', groupName: 'members', connectionId: left.id }), ANSWERED);
    await stopped.stop();
    await until('the stopped client to leave the group',
      async () => (await list('members')).body.connections.length === rest.length);
    assert.deepEqual(await list('members'), { status: 200, body: { connections: entries(rest) } });
    assert.equal(outsider.closed, null);
    // each list is one call, the first page of up to 200
    for (const e of await listCalls('members')) {
      assert.equal(e.query, 'api-version=2024-12-01&maxpagesize=200');
      assert.equal(e.status, 200);
    }
  });

  await t.test('more than one page: 205 members, two pages followed', async (t) => {
    // the module asks for pages of 200 (the largest); the emulator has no
    // option for smaller pages, so a second page needs more than 200 members
    const clients = [];
    for (let i = 0; i < 205; i += 25) {
      const batch = [];
      for (let j = i; j < Math.min(i + 25, 205); j++) {
        const protocol = j % 2 ? 'messagepack' : 'json';
        batch.push(open(t, api, { user: `many${j}`, protocol }).then((c) => Object.assign(c, { user: `many${j}` })));
      }
      clients.push(...await Promise.all(batch));
    }
    for (let i = 0; i < clients.length; i += 100) {
      const added = await post({ action: 'add', groupName: 'many', connectionIds: clients.slice(i, i + 100).map((c) => c.id) });
      assert.equal(added.status, 202, JSON.stringify(added.body));
    }
    const answer = await list('many');
    assert.equal(answer.status, 200);
    assert.equal(answer.body.connections.length, 205);
    assert.deepEqual(answer.body, { connections: entries(clients) });
    const calls = await listCalls('many');
    assert.equal(calls.length, 2, 'the first page and its nextLink');
    assert.equal(calls[0].query, 'api-version=2024-12-01&maxpagesize=200');
    assert.match(calls[1].query, /^maxpagesize=200&continuationToken=[\w-]+&api-version=2024-12-01$/);
    assert.deepEqual(calls.map((e) => e.status), [200, 200]);
  });
});

test('several recipients in one action', { timeout: 60000 }, async (t) => {
  const { emulator, api, post } = await stack(t, 'actions-recipients');
  for (const protocol of PROTOCOLS) {
    await t.test(`${protocol}: userIds reach each user, connectionIds join a group`, async (t) => {
      const a = await open(t, api, { user: `ra-${protocol}`, protocol });
      const b = await open(t, api, { user: `rb-${protocol}`, protocol: 'json' });
      const c = await open(t, api, { user: `rc-${protocol}`, protocol });

      assert.deepEqual(await post({ target: 'newMessage', arguments: ['to a and b', 1], userIds: [a.name, b.name] }), {
        status: 202,
        body: {
          completed: 1, total: 1,
          recipients: [{ action: 0, userId: a.name, completed: true }, { action: 0, userId: b.name, completed: true }],
        },
      });
      await settle(post, [a, b, c]);
      assert.deepEqual(got(a), [['to a and b', 1]]);
      assert.deepEqual(got(b), [['to a and b', 1]]);
      assert.deepEqual(got(c), []);

      const group = `pair-${protocol}`;
      assert.deepEqual(await post({ action: 'add', groupName: group, connectionIds: [a.id, c.id] }), {
        status: 202,
        body: {
          completed: 1, total: 1,
          recipients: [{ action: 0, connectionId: a.id, completed: true }, { action: 0, connectionId: c.id, completed: true }],
        },
      });
      const groups = Object.fromEntries((await emulator.connections()).map((x) => [x.connectionId, x.groups]));
      assert.deepEqual([groups[a.id], groups[b.id], groups[c.id]], [[group], [], [group]]);
      assert.deepEqual(await post({ target: 'newMessage', arguments: ['to the pair'], groupName: group }), ANSWERED);
      await settle(post, [a, b, c]);
      assert.deepEqual(got(a), [['to a and b', 1], ['to the pair']]);
      assert.deepEqual(got(b), [['to a and b', 1]]);
      assert.deepEqual(got(c), [['to the pair']]);
    });
  }
});

test('exists as an auth_request rule: in while the user is connected, 403 otherwise', { timeout: 60000 }, async (t) => {
  const { nginx, api, post } = await stack(t, 'actions-auth');
  const app = async (user) => {
    const res = await fetchWithTimeout(`${nginx.url}/app.txt`, { headers: { 'X-User': user } });
    return { status: res.status, connected: res.headers.get('x-connected'), text: await res.text() };
  };
  const refused = (answer, what) => {
    assert.equal(answer.status, 403, what);
    assert.equal(answer.connected, 'false', what);
    assert.match(answer.text, /<title>403 Forbidden<\/title>/, what);
  };
  const admitted = { status: 200, connected: 'true', text: APP_TEXT };

  for (const protocol of PROTOCOLS) {
    await t.test(protocol, async (t) => {
      const user = `member-${protocol}`;
      refused(await app(user), 'before connecting');
      const first = await open(t, api, { user, protocol, name: `${user}1` });
      assert.deepEqual(await app(user), admitted);
      refused(await app(`other-${protocol}`), 'another user');
      // a second connection of the user; stopping one keeps the user in
      const second = await open(t, api, { user, protocol: 'json', name: `${user}2` });
      await first.stop();
      await until('the first connection to go',
        async () => (await post({ action: 'exists', connectionId: first.id })).status === 404);
      assert.deepEqual(await app(user), admitted);
      await second.stop();
      await until('the user to be refused', async () => (await app(user)).status === 403);
      refused(await app(user), 'after the last connection stopped');
    });
  }
});
