'use strict';
// The status page (signalr_status) after real traffic: nginx with two
// workers and the emulator; real @microsoft/signalr clients (JSON and
// MessagePack) negotiate through nginx, connect, invoke hub methods whose
// trigger routes are output locations; an action is POSTed that the service
// refuses, and a negotiate is refused. The JSON must count exactly what was
// sent; the HTML page, opened in headless Chromium, must show it, load
// nothing but itself, and refresh itself; a reload of nginx keeps the
// counters. A full-page screenshot is kept as build/e2e/artifacts/status.png.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');
const { ROOT, startEmulator, startNginx, freePort, fetchWithTimeout, sleep } = require('./lib/stack');
const { connect } = require('./lib/clients');
const { status } = require('./lib/confs');
const { openBrowser } = require('./lib/browser');

const ENDPOINT = '127.0.0.1';   // the endpoint's name: its host
const ARTIFACTS = path.join(ROOT, 'build', 'e2e', 'artifacts');
const SHOT = path.join(ARTIFACTS, 'status.png');
const WAIT = 5000;
const REFRESH_WAIT = 7000;      // the page refreshes every 5 s

// Every action the module knows: the JSON lists each from the start.
const ACTIONS = [
  'add_connection_to_group', 'add_user_to_group', 'broadcast', 'close_connection', 'close_group_connections',
  'close_hub_connections', 'close_user_connections', 'connection_exists', 'group_exists', 'invoke',
  'list_connections', 'remove_connection_from_all_groups', 'remove_connection_from_group',
  'remove_user_from_all_groups', 'remove_user_from_group', 'send_to_connection', 'send_to_group', 'send_to_user',
  'user_exists', 'user_in_group',
];
const REASONS = ['bad_hub', 'error', 'invalid_claim', 'invalid_user_id', 'no_endpoint', 'not_ready', 'token_too_long'];
const OUTCOMES = ['answered', 'signature', 'refused', 'no_route', 'unsupported_media_type', 'client_error',
  'server_error', 'route_failed'];

async function statusJson(nginx) {
  const res = await fetchWithTimeout(`${nginx.url}/status?format=json`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get('content-type'), 'application/json');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return JSON.parse(text);
}

// The counters of the JSON: a histogram becomes its count (its buckets
// depend on timing; they are checked to add up).
function counters(json) {
  const histogram = (h) => {
    const { buckets, count, sum_ms: sum, ...labels } = h;
    assert.equal(buckets['+Inf'], count);
    assert.ok(Number.isInteger(sum) && sum >= 0);
    return { ...labels, count };
  };
  return {
    negotiate_tokens: json.negotiate_tokens,
    negotiate_refused: json.negotiate_refused,
    trigger_calls: json.trigger_calls,
    trigger_route_duration: json.trigger_route_duration.map(histogram),
    output_actions: json.output_actions,
    rest_calls: json.rest_calls,
    rest_retries: json.rest_retries,
    rest_duration: json.rest_duration.map(histogram),
    zone_full: json.zone.full,
  };
}

// The counters expected from what was sent: n has the non-zero counts.
function expected(n) {
  const outcomes = (o) => Object.fromEntries(OUTCOMES.map((k) => [k, o[k] || 0]));
  const trigger = (category, event, o) => ({ hub: 'chat', category, event, outcomes: outcomes(o) });
  return {
    negotiate_tokens: Object.entries(n.tokens).map(([hub, value]) => ({ hub, endpoint: ENDPOINT, value })),
    negotiate_refused: REASONS.map((reason) => ({ reason, value: n.refused[reason] || 0 })),
    trigger_calls: [
      trigger('connections', 'connected', n.connected),
      trigger('connections', 'disconnected', n.disconnected),
      ...Object.entries(n.events).map(([event, answered]) => trigger('messages', event, { answered })),
    ],
    trigger_route_duration: [
      { hub: 'chat', category: 'connections', count: n.connectionRoutes },
      { hub: 'chat', category: 'messages', count: n.messageRoutes },
    ],
    output_actions: ACTIONS.map((action) => ({ action, value: n.actions[action] || 0 })),
    rest_calls: [
      { endpoint: ENDPOINT, class: '2xx', code: '', value: n.rest2xx },
      { endpoint: ENDPOINT, class: '4xx', code: 'Error.Connection.NotExisted', value: n.rest4xx },
    ],
    rest_retries: [{ endpoint: ENDPOINT, value: 0 }],
    rest_duration: [{ endpoint: ENDPOINT, count: n.rest2xx + n.rest4xx }],
    zone_full: 0,
  };
}

// Waits until the counters are exactly what is expected (they are counted
// when a request ends, after its answer went), then asserts them: a count
// that goes past the expected one fails with the difference.
async function countersAre(nginx, want, what) {
  const deadline = Date.now() + WAIT;
  let got;
  for (;;) {
    got = counters(await statusJson(nginx));
    if (isDeepStrictEqual(got, want) || Date.now() > deadline) break;
    await sleep(50);
  }
  assert.deepEqual(got, want, what);
}

// A table of the HTML page as rows of { header: cell text }.
function table(page, id) {
  return page.evaluate((tableId) => {
    const rows = [...document.querySelectorAll(`#${tableId} tr`)];
    const headers = [...rows[0].querySelectorAll('th')].map((th) => th.textContent);
    return rows.slice(1).map((tr) => Object.fromEntries(
      [...tr.querySelectorAll('td')].map((td, i) => [headers[i], td.textContent])));
  }, id);
}

test('the status page counts real traffic exactly, shows it in a browser, and keeps it over a reload', { timeout: 120000 }, async (t) => {
  const port = await freePort();
  const emulator = await startEmulator(t, { name: 'status', upstream: `http://127.0.0.1:${port}/runtime/webhooks/signalr` });
  const nginx = await startNginx(t, {
    name: 'status', port, workers: 2, conf: status(emulator.url),
    env: { AzureSignalRConnectionString: emulator.connectionString },
  });
  const api = `${nginx.url}/api`;
  // nginx listens before its master has started the workers
  for (const deadline = Date.now() + WAIT; nginx.workers().length < 2 && Date.now() < deadline;) await sleep(50);
  assert.equal(nginx.workers().length, 2, 'two worker processes');

  const post = async (action) => {
    const res = await fetchWithTimeout(`${nginx.url}/actions/chat`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(action),
    });
    return { status: res.status, body: await res.json() };
  };
  const negotiate = (query) => fetchWithTimeout(`${nginx.url}/byhub/negotiate?${query}`, { method: 'POST' });

  // the counts of the traffic below, as it is made
  const n = {
    tokens: { chat: 0, news: 0 }, refused: {}, connected: {}, disconnected: {}, events: {}, actions: {},
    connectionRoutes: 0, messageRoutes: 0, rest2xx: 0, rest4xx: 0,
  };
  const add = (o, k, by = 1) => { o[k] = (o[k] || 0) + by; };
  // a client connects: a token, a connected event answered (or refused)
  const connected = (outcome = 'answered') => {
    n.tokens.chat++; add(n.connected, outcome); n.connectionRoutes++;
  };
  const disconnected = () => { add(n.disconnected, 'answered'); n.connectionRoutes++; };
  // a hub method whose route is an output location: one action, one REST call
  const invoked = (event, action) => {
    add(n.events, event); n.messageRoutes++; add(n.actions, action); n.rest2xx++;
  };

  let alice;
  await t.test('JSON: exact counts of the traffic made', async () => {
    // nothing yet: the refusal reasons and the actions are listed at 0
    await countersAre(nginx, {
      ...expected(n), negotiate_tokens: [], trigger_calls: [], trigger_route_duration: [], rest_calls: [],
      rest_retries: [], rest_duration: [],
    }, 'before any traffic');

    alice = await connect(t, api, { user: 'alice', protocol: 'json' });
    connected();
    const bob = await connect(t, api, { user: 'bob', protocol: 'messagepack' });
    connected();
    // mallory's token is issued; the connected route refuses her (403),
    // the service closes the connection and sends no disconnected event
    const mallory = await connect(t, api, { user: 'mallory', protocol: 'json' });
    connected('refused');
    await mallory.waitClosed();

    await alice.invoke('broadcast', 'hello from alice');
    invoked('broadcast', 'broadcast');
    await bob.waitFor((m) => m.args[0] === 'hello from alice', 'the broadcast');
    await bob.invoke('joinGroup', 'room1');
    invoked('joinGroup', 'add_connection_to_group');
    await alice.invoke('sendToGroup', 'room1', 'hi room1');
    invoked('sendToGroup', 'send_to_group');
    await bob.waitFor((m) => m.args[0] === 'hi room1', 'the group message');

    // the service refuses to remove a connection it does not hold from a
    // group: a 4xx REST call, not retried
    assert.deepEqual(await post({ action: 'remove', groupName: 'room1', connectionId: 'not-connected-0' }), {
      status: 404,
      body: {
        error: 'remove connection from group: the service refused it', failed: 0, endpoint: ENDPOINT,
        status: 404, errorCode: 'Error.Connection.NotExisted', completed: 0, total: 1,
      },
    });
    add(n.actions, 'remove_connection_from_group');
    n.rest4xx++;

    // a token for another hub, and a hub name refused
    let res = await negotiate('hub=news');
    assert.equal(res.status, 200, await res.text());
    n.tokens.news++;
    res = await negotiate('hub=9news');
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: 'invalid hub name' });
    add(n.refused, 'bad_hub');

    await bob.stop();
    disconnected();

    // tokens: chat 3 (alice, bob, mallory), news 1; refused: bad_hub 1;
    // connected: answered 2, refused 1; disconnected 1; broadcast,
    // joinGroup, sendToGroup 1 each; actions: broadcast,
    // add_connection_to_group, send_to_group, remove_connection_from_group
    // 1 each; REST: 3 2xx, 1 4xx; routes: connections 4, messages 3
    assert.deepEqual(n, {
      tokens: { chat: 3, news: 1 }, refused: { bad_hub: 1 }, connected: { answered: 2, refused: 1 },
      disconnected: { answered: 1 }, events: { broadcast: 1, joinGroup: 1, sendToGroup: 1 },
      actions: { broadcast: 1, add_connection_to_group: 1, send_to_group: 1, remove_connection_from_group: 1 },
      connectionRoutes: 4, messageRoutes: 3, rest2xx: 3, rest4xx: 1,
    });
    await countersAre(nginx, expected(n), 'after the first traffic');

    // the same counters as Prometheus text
    const res2 = await fetchWithTimeout(`${nginx.url}/status`);
    assert.equal(res2.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await res2.text();
    for (const line of [
      `signalr_negotiate_tokens_total{hub="chat",endpoint="${ENDPOINT}"} 3`,
      `signalr_negotiate_tokens_total{hub="news",endpoint="${ENDPOINT}"} 1`,
      'signalr_negotiate_refused_total{reason="bad_hub"} 1',
      'signalr_trigger_calls_total{hub="chat",category="connections",event="connected",outcome="answered"} 2',
      'signalr_trigger_calls_total{hub="chat",category="connections",event="connected",outcome="refused"} 1',
      'signalr_trigger_calls_total{hub="chat",category="messages",event="broadcast",outcome="answered"} 1',
      'signalr_output_actions_total{action="send_to_group"} 1',
      `signalr_rest_calls_total{endpoint="${ENDPOINT}",class="2xx",code=""} 3`,
      `signalr_rest_calls_total{endpoint="${ENDPOINT}",class="4xx",code="Error.Connection.NotExisted"} 1`,
      `signalr_endpoint_online{endpoint="${ENDPOINT}",type="primary"} 1`,
    ]) {
      assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
    }
  });

  await t.test('HTML in Chromium: the counts, no script, nothing loaded but itself, refreshed', async (t) => {
    const context = await openBrowser(t, { viewport: { width: 1280, height: 720 } });
    const page = await context.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(e.message));
    const requests = [];
    page.on('request', (r) => requests.push(`${r.method()} ${r.url()} ${r.resourceType()}`));
    let loads = 0;
    page.on('load', () => { loads++; });

    // a browser's Accept asks for the page
    const url = `${nginx.url}/status`;
    const response = await page.goto(url);
    assert.equal(response.status(), 200);
    assert.equal(response.headers()['content-type'], 'text/html; charset=utf-8');
    assert.doesNotMatch(await response.text(), /<script/i);
    assert.equal(await page.title(), 'ngx_signalr_module status');
    assert.equal(await page.locator('script').count(), 0, 'no <script> element');
    assert.equal(await page.locator('meta[http-equiv="refresh"]').getAttribute('content'), '5');

    const [endpoint] = await table(page, 'endpoints');
    assert.deepEqual(endpoint, {
      Endpoint: ENDPOINT, Type: 'primary', State: 'online', Since: '-', 'Last failure': '-', 'Last failure status': '-',
      Probes: '0', 'Failed probes': '0', 'Entra ID key age': '-', 'Entra ID refresh failures': '-',
      'REST 2xx': '3', 'REST 4xx': '1', 'REST 5xx': '0', 'REST no answer': '0', Retries: '0',
      'Mean REST time': endpoint['Mean REST time'],
    });
    assert.match(endpoint['Mean REST time'], /^\d+ ms$/);
    assert.equal(await page.locator('#endpoints td.up').textContent(), 'online');
    const hubs = await table(page, 'hubs');
    assert.deepEqual(hubs.map(({ 'Mean route time': mean, ...row }) => row), [
      {
        Hub: 'chat', 'Tokens issued': '3', 'Upstream calls answered': '6', 'Bad signature': '0',
        'Refused by the route': '1', 'No route': '0', 'Unsupported media type': '0', 'Other 4xx': '0', '5xx': '0', 'Route failed': '0',
      },
      {
        Hub: 'news', 'Tokens issued': '1', 'Upstream calls answered': '0', 'Bad signature': '0',
        'Refused by the route': '0', 'No route': '0', 'Unsupported media type': '0', 'Other 4xx': '0', '5xx': '0', 'Route failed': '0',
      },
    ]);
    assert.deepEqual(await table(page, 'refusals'), [{ Reason: 'bad_hub', Count: '1' }]);
    assert.deepEqual(await table(page, 'actions'), [
      { Action: 'add_connection_to_group', Count: '1' }, { Action: 'broadcast', Count: '1' },
      { Action: 'remove_connection_from_group', Count: '1' }, { Action: 'send_to_group', Count: '1' },
    ]);
    assert.deepEqual(await table(page, 'rest'), [
      { Endpoint: ENDPOINT, Class: '2xx', Code: '', Count: '3' },
      { Endpoint: ENDPOINT, Class: '4xx', Code: 'Error.Connection.NotExisted', Count: '1' },
    ]);

    // traffic while the page is open, counted before its next refresh
    await alice.invoke('broadcast', 'while the page is open');
    invoked('broadcast', 'broadcast');
    await countersAre(nginx, expected(n), 'the broadcast while the page is open');
    const loadsBefore = loads;
    await page.waitForEvent('load', { timeout: REFRESH_WAIT });
    assert.equal(loads, loadsBefore + 1);
    assert.deepEqual((await table(page, 'actions')).find((r) => r.Action === 'broadcast'),
      { Action: 'broadcast', Count: '2' });
    assert.equal((await table(page, 'endpoints'))[0]['REST 2xx'], '4');
    assert.equal((await table(page, 'hubs'))[0]['Upstream calls answered'], '7');

    // the page and its refresh: nothing else was loaded, as the page saw
    // it and as nginx did (a favicon request is not a page's request);
    // two loads, unless the traffic above took longer than a refresh
    const seen = loads;
    assert.ok(seen >= 2);
    assert.deepEqual(requests, Array(seen).fill(`GET ${url} document`));
    assert.deepEqual(problems, []);
    let browserRequests;
    const deadline = Date.now() + WAIT;
    do {
      if (browserRequests) await sleep(50);
      const log = fs.readFileSync(path.join(nginx.prefix, 'logs', 'access.log'), 'utf8');
      browserRequests = log.split('\n').filter((line) => line.includes('HeadlessChrome'))
        .map((line) => /"([A-Z]+ \S+) HTTP\/[\d.]+" (\d+)/.exec(line).slice(1).join(' '));
    } while (browserRequests.length < seen && Date.now() < deadline);
    assert.deepEqual(browserRequests, Array(seen).fill('GET /status 200'));

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SHOT, fullPage: true });
    t.diagnostic(`status page screenshot: ${SHOT}`);
  });

  await t.test('a reload keeps the counters, which go on counting', async (t) => {
    const before = await statusJson(nginx);
    const oldWorkers = nginx.workers();
    assert.equal(oldWorkers.length, 2);
    await nginx.reload();
    const newWorkers = nginx.workers();
    assert.equal(newWorkers.length, 2);
    for (const pid of oldWorkers) {
      assert.ok(!newWorkers.includes(pid));
      assert.throws(() => process.kill(Number(pid), 0), { code: 'ESRCH' }, `old worker ${pid} has exited`);
    }

    const after = await statusJson(nginx);
    assert.deepEqual(counters(after), counters(before));
    assert.deepEqual(after.zone, before.zone, 'the same zone, not a new one');
    assert.deepEqual(after.endpoints, before.endpoints);
    await countersAre(nginx, expected(n), 'after the reload');

    // and they still count, in the new workers
    const dave = await connect(t, api, { user: 'dave', protocol: 'messagepack' });
    connected();
    await dave.invoke('broadcast', 'after the reload');
    invoked('broadcast', 'broadcast');
    await alice.waitFor((m) => m.args[0] === 'after the reload', 'the broadcast after the reload');
    // two recipients: two actions, two REST calls
    assert.deepEqual(await post({ target: 'newMessage', arguments: ['to both'], userIds: ['alice', 'dave'] }), {
      status: 202,
      body: {
        completed: 1, total: 1,
        recipients: [{ action: 0, userId: 'alice', completed: true }, { action: 0, userId: 'dave', completed: true }],
      },
    });
    add(n.actions, 'send_to_user', 2);
    n.rest2xx += 2;
    await alice.stop();
    disconnected();
    await dave.stop();
    disconnected();

    // tokens: chat 4; connected: answered 3, refused 1; disconnected 3;
    // broadcast 3; actions: broadcast 3, send_to_user 2; REST: 7 2xx,
    // 1 4xx; routes: connections 7, messages 5
    assert.deepEqual(n, {
      tokens: { chat: 4, news: 1 }, refused: { bad_hub: 1 }, connected: { answered: 3, refused: 1 },
      disconnected: { answered: 3 }, events: { broadcast: 3, joinGroup: 1, sendToGroup: 1 },
      actions: {
        broadcast: 3, add_connection_to_group: 1, send_to_group: 1, remove_connection_from_group: 1, send_to_user: 2,
      },
      connectionRoutes: 7, messageRoutes: 5, rest2xx: 7, rest4xx: 1,
    });
    await countersAre(nginx, expected(n), 'after the traffic that followed the reload');
    const last = await statusJson(nginx);
    assert.equal(last.zone.created, before.zone.created);
    t.diagnostic(`nginx workers ${oldWorkers.join(', ')} replaced by ${newWorkers.join(', ')}`);
  });

  assert.doesNotMatch(nginx.errorLog(), /\[(alert|crit|emerg)\]|exited on signal/);
});
