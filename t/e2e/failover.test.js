'use strict';
// Several endpoints that fail over, with real clients: two emulators as the
// endpoints a (primary) and b (secondary) behind nginx with two workers.
// When a dies, the first output that fails on it takes it offline for both
// workers: no negotiate gives it out any more, outputs skip it and reach
// the clients on b, each message once; when a comes back, a probe (probe=1s)
// brings it back. docs/several-endpoints.md describes what is tested here.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { MODULE, startEmulator, startNginx, freePort, fetchWithTimeout, sleep } = require('./lib/stack');
const { connect } = require('./lib/clients');

function conf(a, b) {
  return (port) => `load_module ${MODULE};
daemon off;
master_process on;
worker_processes 2;
pid logs/nginx.pid;
error_log logs/error.log info;
events { worker_connections 256; accept_mutex off; }
http {
    access_log logs/access.log;
    signalr_endpoint env:CS_A name=a rest=/_signalr/a probe=1s;
    signalr_endpoint env:CS_B name=b rest=/_signalr/b type=secondary probe=1s;
    server {
        listen 127.0.0.1:${port};
        location = /api/negotiate { signalr_negotiate chat; add_header X-Pid $pid; }
        location = /actions/chat { signalr_output chat; signalr_rest_retries 0; }
        location /_signalr/a/ { internal; proxy_pass ${a.url}; proxy_connect_timeout 1s; }
        location /_signalr/b/ { internal; proxy_pass ${b.url}; proxy_connect_timeout 1s; }
    }
}
`;
}

// each on a new connection (fetch would keep one, and so one worker)
function negotiate(nginx) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${nginx.url}/api/negotiate`, { method: 'POST', agent: false, timeout: 10000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        try {
          assert.equal(res.statusCode, 200);
          resolve({ url: JSON.parse(body).url, pid: res.headers['x-pid'] });
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('negotiate timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function output(nginx, action) {
  const res = await fetchWithTimeout(`${nginx.url}/actions/chat`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(action),
  });
  return { status: res.status, body: await res.json() };
}

test('two endpoints: one dies and comes back', { timeout: 60000 }, async (t) => {
  const a = await startEmulator(t, { name: 'failover-a' });
  const b = await startEmulator(t, { name: 'failover-b' });
  const nginx = await startNginx(t, {
    name: 'failover', conf: conf(a, b), env: { CS_A: a.connectionString, CS_B: b.connectionString },
  });
  const api = `${nginx.url}/api`;

  assert.equal((await negotiate(nginx)).url, `${a.url}/client/?hub=chat`, 'a, the primary, is given out');
  const onA = await connect(t, api, { name: 'on-a' });
  assert.equal((await output(nginx, { target: 'newMessage', arguments: ['both'] })).status, 202);
  await onA.waitFor((m) => m.args[0] === 'both', 'the first message');

  await a.stop();

  // the first output after a died: b delivers it, a fails and goes offline
  const first = await output(nginx, { target: 'newMessage', arguments: ['one'] });
  assert.equal(first.status, 502);
  assert.deepEqual(first.body.endpoints.map((e) => [e.name, e.completed]), [['a', 0], ['b', 1]]);
  assert.equal(first.body.endpoints[0].failures[0].error, 'the service could not be reached');

  // at least 12 negotiates, and until both workers have answered
  const pids = new Set();
  for (let i = 0; i < 400 && (i < 12 || pids.size < 2); i++) {
    const n = await negotiate(nginx);
    assert.equal(n.url, `${b.url}/client/?hub=chat`, `negotiate ${i} gives out b`);
    pids.add(n.pid);
  }
  assert.equal(pids.size, 2, 'both workers gave out b');

  const onB = await connect(t, api, { name: 'on-b' });
  const next = await output(nginx, { target: 'newMessage', arguments: ['two'] });
  assert.equal(next.status, 202, 'a is skipped: the output succeeds');
  assert.deepEqual(next.body.endpoints, [{ name: 'a', completed: 0, skipped: 1 }, { name: 'b', completed: 1 }]);
  await onB.waitFor((m) => m.args[0] === 'two', 'the message sent while a is down');
  await sleep(200);
  assert.deepEqual(onB.texts(), [['two']], 'each message once');

  // a comes back on its port: a probe (every second, on traffic) finds it
  const again = await startEmulator(t, { name: 'failover-a2', port: a.port });
  assert.equal(again.port, a.port);
  const start = Date.now();
  let back = false;
  while (Date.now() - start < 5000) {
    if ((await negotiate(nginx)).url === `${a.url}/client/?hub=chat`) { back = true; break; }
    await sleep(100);
  }
  assert.ok(back, 'a is given out again once a probe passed');
  assert.ok(Date.now() - start < 3000, `back within the probe interval (${Date.now() - start} ms)`);
  assert.match(nginx.errorLog(), /\[notice\].*the probe of endpoint "a" passed/);

  const last = await output(nginx, { target: 'newMessage', arguments: ['three'] });
  assert.equal(last.status, 202);
  assert.deepEqual(last.body.endpoints, [{ name: 'a', completed: 1 }, { name: 'b', completed: 1 }]);
  await onB.waitFor((m) => m.args[0] === 'three', 'a message after a came back');
  assert.doesNotMatch(nginx.errorLog(), /\[(crit|alert|emerg)\]/);
});
