'use strict';
// docs/examples/chat/nginx.conf, as make run serves it, with Node clients:
// every hub method of the page, and what the page itself is served with.

const test = require('node:test');
const assert = require('node:assert/strict');
const { fetchWithTimeout, sleep } = require('./lib/stack');
const { connect } = require('./lib/clients');
const { startChat } = require('./lib/examples');

test('the chat example', { timeout: 60000 }, async (t) => {
  const { nginx } = await startChat(t, 'chat-example');
  const api = `${nginx.url}/api`;

  await t.test('serves the page, the client library and config.json', async () => {
    const page = await fetchWithTimeout(`${nginx.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assert.match(await page.text(), /<script src="lib\/signalr\.min\.js"><\/script>/);
    const lib = await fetchWithTimeout(`${nginx.url}/lib/signalr.min.js`);
    assert.equal(lib.status, 200);
    assert.match(lib.headers.get('content-type'), /javascript/);
    assert.match(await lib.text(), /HubConnectionBuilder/);
    const config = await fetchWithTimeout(`${nginx.url}/config.json`);
    assert.equal(config.headers.get('cache-control'), 'no-store');
    assert.equal((await config.json()).service, 'emulator');
  });

  await t.test('negotiate wants a plain user name', async () => {
    for (const bad of ['', '?user=', '?user=a%20b', '?user=%22', `?user=${'x'.repeat(33)}`]) {
      const res = await fetchWithTimeout(`${nginx.url}/api/negotiate${bad}`, { method: 'POST' });
      assert.equal(res.status, 400, bad);
    }
    const ok = await fetchWithTimeout(`${nginx.url}/api/negotiate?user=alice.b-c_d`, { method: 'POST' });
    assert.equal(ok.status, 200);
  });

  await t.test('joined, messages to everyone, to a group, to a user, left', async (t) => {
    const alice = await connect(t, api, { user: 'alice' });
    const bob = await connect(t, api, { user: 'bob', protocol: 'messagepack' });
    await alice.waitFor((m) => m.method === 'userJoined' && m.args[0] === 'bob', 'bob joined');

    assert.deepEqual(await alice.invoke('broadcast', 'hello all'), { completed: 1, total: 1 });
    await bob.waitFor((m) => m.method === 'newMessage' && m.args[1] === 'hello all');
    await alice.waitFor((m) => m.method === 'newMessage' && m.args[1] === 'hello all');
    assert.deepEqual(bob.texts().at(-1), ['alice', 'hello all']);

    assert.deepEqual(await bob.invoke('joinGroup', 'room1'), { completed: 1, total: 1 });
    assert.deepEqual(await alice.invoke('sendToGroup', 'room1', 'for the room'), { completed: 1, total: 1 });
    await bob.waitFor((m) => m.args[1] === 'for the room');
    assert.deepEqual(bob.texts().at(-1), ['alice', 'for the room', 'room1']);

    assert.deepEqual(await alice.invoke('sendToUser', 'bob', 'psst'), { completed: 1, total: 1 });
    await bob.waitFor((m) => m.args[1] === 'psst');
    assert.deepEqual(bob.texts().at(-1), ['alice', 'psst', '@bob']);

    assert.deepEqual(await bob.invoke('leaveGroup', 'room1'), { completed: 1, total: 1 });
    await alice.invoke('sendToGroup', 'room1', 'nobody left');
    await alice.invoke('broadcast', 'last');
    await bob.waitFor((m) => m.args[1] === 'last');
    await alice.waitFor((m) => m.args[1] === 'last');
    assert.ok(!bob.texts().some((a) => a[1] === 'nobody left'));
    // the sender is not in room1 either, and private messages are private
    assert.deepEqual(alice.texts().map((a) => a[1]), ['hello all', 'last']);

    await assert.rejects(alice.invoke('sendToGroup', 'not a group', 'x'), { message: 'Invocation failed.' });
    await assert.rejects(alice.invoke('broadcast'), { message: 'Invocation failed.' });
    await assert.rejects(alice.invoke('shutdown'), { message: /status code 404/ });

    await bob.stop();
    await alice.waitFor((m) => m.method === 'userLeft' && m.args[0] === 'bob', 'bob left');
    await sleep(100);
    assert.match(nginx.errorLog(), /start worker process/);
    // the only errors are the refused invocations above
    const errors = nginx.errorLog().split('\n').filter((l) => /\[(error|crit|alert|emerg)\]/.test(l));
    assert.equal(errors.length, 2, errors.join('\n'));
    for (const line of errors) assert.match(line, /signalr: route "\/hubs\/chat\/messages\/(sendToGroup|broadcast)" answered 400/);
  });
});
