'use strict';
// docs/examples/app: a Python web app behind nginx. nginx negotiates, the
// trigger posts InvocationContext JSON to the app, the app's answer is the
// result of invoke(), and the app sends output actions to nginx's local
// signalr_output location.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, MODULE, startEmulator, startNginx, startProcess, freePort, fetchWithTimeout } = require('./lib/stack');
const { connect } = require('./lib/clients');
const { render, SIGNALR_JS } = require('./lib/examples');

const PYTHON = process.env.PYTHON || 'python3';

async function startApp(t) {
  const [port, appPort, outputPort] = [await freePort(), await freePort(), await freePort()];
  const emulator = await startEmulator(t, { name: 'app', upstream: `http://127.0.0.1:${port}/runtime/webhooks/signalr` });
  const app = await startProcess(t, PYTHON, ['-u', path.join(ROOT, 'docs', 'examples', 'app', 'app.py'),
    '--port', String(appPort), '--output', `http://127.0.0.1:${outputPort}/signalr/chat`],
  { ready: /app: listening on/, name: 'app.py' });
  const nginx = await startNginx(t, {
    name: 'app',
    port,
    conf: render('app', { MODULE, PORT: port, APP_PORT: appPort, OUTPUT_PORT: outputPort, SERVICE: emulator.url }),
    env: { AzureSignalRConnectionString: emulator.connectionString },
    files: { 'html/lib/signalr.min.js': fs.readFileSync(SIGNALR_JS) },
  });
  return { emulator, app, nginx, output: `http://127.0.0.1:${outputPort}/signalr/chat` };
}

test('the app example', { timeout: 60000 }, async (t) => {
  const { nginx, output, app } = await startApp(t);
  const api = `${nginx.url}/api`;

  await t.test('nginx serves the app and the client library', async () => {
    const page = await fetchWithTimeout(`${nginx.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<h1>App chat<\/h1>/);
    const lib = await fetchWithTimeout(`${nginx.url}/lib/signalr.min.js`);
    assert.equal(lib.status, 200);
  });

  await t.test('the app refuses a connection', async (t) => {
    let client;
    try {
      client = await connect(t, api, { user: 'mallory' });
    } catch (e) {
      return;
    }
    assert.match(String((await client.waitClosed()).message), /refused/i);
  });

  await t.test('the app answers invocations and sends output actions', async (t) => {
    const alice = await connect(t, api, { user: 'alice' });
    await alice.waitFor((m) => m.method === 'presence' && m.args[0] === 'alice', 'alice online');
    const bob = await connect(t, api, { user: 'bob', protocol: 'messagepack' });
    await alice.waitFor((m) => m.method === 'presence' && m.args[0] === 'bob' && m.args[1] === true, 'bob online');

    // the app's state, as the invoke() result
    assert.deepEqual(await bob.invoke('online'), ['alice', 'bob']);

    const first = await alice.invoke('sendMessage', 'hello');
    assert.equal(typeof first.id, 'number');
    await bob.waitFor((m) => m.args[1] === 'hello');
    await alice.waitFor((m) => m.args[1] === 'hello');

    // excluded: not to the sender's connection
    await alice.invoke('sendToOthers', 'not to me');
    // userId, and a copy to the sender's connection, in one POST of two actions
    await bob.invoke('whisper', 'alice', 'psst');
    // groups
    assert.deepEqual(await bob.invoke('join', 'team'), { joined: 'team' });
    await alice.invoke('sendToGroup', 'team', 'team news');
    assert.deepEqual(await bob.invoke('leave', 'team'), { left: 'team' });
    await alice.invoke('sendToGroup', 'team', 'no one hears');
    const last = await alice.invoke('sendMessage', 'last');
    assert.ok(last.id > first.id);
    await bob.waitFor((m) => m.args[1] === 'last');
    await alice.waitFor((m) => m.args[1] === 'last');

    assert.deepEqual(alice.texts(), [['alice', 'hello'], ['bob', 'psst'], ['alice', 'last']]);
    assert.deepEqual(bob.texts(), [['alice', 'hello'], ['alice', 'not to me'], ['bob', 'psst'],
      ['alice', 'team news', 'team'], ['alice', 'last']]);

    // the app's refusals and unknown methods make invoke() reject
    await assert.rejects(alice.invoke('sendMessage', ''), { message: 'Invocation failed.' });
    await assert.rejects(alice.invoke('join', 'not a group'), { message: 'Invocation failed.' });
    await assert.rejects(alice.invoke('format', 'disk'), { message: /status code 404/ });

    await bob.stop();
    await alice.waitFor((m) => m.method === 'presence' && m.args[0] === 'bob' && m.args[1] === false, 'bob offline');
    assert.deepEqual(await alice.invoke('online'), ['alice']);
  });

  await t.test('the output location refuses actions it cannot send', async () => {
    const res = await fetchWithTimeout(output, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: 'delete' }),
    });
    assert.equal(res.status, 400);
    assert.ok((await res.json()).error);
    const ok = await fetchWithTimeout(output, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([{ target: 'newMessage', arguments: ['app', 'direct'] }, { target: 'newMessage', arguments: [] }]),
    });
    assert.equal(ok.status, 202);
    assert.deepEqual(await ok.json(), { completed: 2, total: 2 });
  });
});
