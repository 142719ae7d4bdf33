'use strict';
// Microsoft Entra ID end to end (docs/keyless.md): the emulator with its
// Entra stand-ins and local auth disabled, so that only what the module
// gets through its entra= and rest= locations works: the managed identity's
// token from the IMDS stand-in, the key exchange, client tokens signed with
// the exchanged key (kid), REST calls with the Entra token. The emulator
// rotates its keys every 2 s and forgets them 4 s later, the module
// refreshes every second: real clients (JSON and MessagePack) negotiated
// before and after rotations keep chatting through trigger and output.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator, startNginx, freePort, fetchWithTimeout } = require('./lib/stack');
const { connect } = require('./lib/clients');
const { routes } = require('./lib/confs');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const TENANT = '11111111-1111-4111-8111-111111111111';

// the routes of t/e2e/lib/confs.js with an Entra ID endpoint; the service
// calls upstream with a managed identity's bearer token and no signature,
// which the trigger checks against the stand-in tenant's keys (fetched
// through a location)
const withEntra = (emulatorUrl) => (port) => routes(emulatorUrl)(port)
  .replace('signalr_endpoint env:AzureSignalRConnectionString rest=/_signalr/;',
    'signalr_endpoint env:AzureSignalRConnectionString rest=/_signalr/ entra=/_entra/ entra_refresh=1s;')
  .replace('location /_signalr/ {', `location /_entra/ {
            internal;
            proxy_pass ${emulatorUrl};
        }

        location /_signalr/ {`)
  .replace('signalr_trigger /route/$signalr_hub/$signalr_category/$signalr_event;',
    'signalr_trigger /route/$signalr_hub/$signalr_category/$signalr_event;\n'
    + '            signalr_trigger_verify entra;\n'
    + `            signalr_trigger_entra issuer=https://sts.windows.net/${TENANT}/ `
    + 'audience=api://signalr-upstream jwks=/_jwks;')
  .replace('location /_entra/ {', `location = /_jwks {
            internal;
            proxy_pass ${emulatorUrl}/${TENANT}/discovery/v2.0/keys;
        }

        location /_entra/ {`);

function kidOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid;
}

let markers = 0;
async function settle(sender, clients) {
  const marker = `marker-${++markers}`;
  await sender.invoke('broadcast', marker);
  await Promise.all(clients.map((c) => c.waitFor((m) => m.args[0] === marker, marker)));
}

const got = (client) => client.texts().filter((args) => !String(args[0]).startsWith('marker-'));

test('Entra ID: a managed identity, keys rotating, JSON and MessagePack clients chatting', { timeout: 90000 }, async (t) => {
  const port = await freePort();
  const emulator = await startEmulator(t, {
    name: 'entra',
    upstream: `http://127.0.0.1:${port}/runtime/webhooks/signalr`,
    args: ['--entra', '--disable-local-auth', '--upstream-auth', 'entra',
      '--entra-key-lifetime', '2', '--entra-key-grace', '4'],
  });
  const cs = `Endpoint=http://127.0.0.1;Port=${emulator.port};AuthType=azure.msi;Version=1.0;`;
  const nginx = await startNginx(t, {
    name: 'entra', port, conf: withEntra(emulator.url), env: { AzureSignalRConnectionString: cs },
  });
  const api = `${nginx.url}/api`;

  const negotiate = async () => {
    const res = await fetchWithTimeout(`${api}/negotiate?user=probe`, { method: 'POST' });
    assert.equal(res.status, 200);
    return kidOf((await res.json()).accessToken);
  };

  const first = await negotiate();
  assert.match(first, /^t-/, 'the token names the exchanged key');

  const alice = await connect(t, api, { user: 'alice' });
  const bob = await connect(t, api, { user: 'bob', protocol: 'messagepack' });
  await alice.invoke('broadcast', 'before');
  await alice.invoke('sendToUser', 'bob', 'to bob');
  await settle(alice, [alice, bob]);

  // past two rotations: the first key is forgotten by the service
  await sleep(5000);
  const later = await negotiate();
  assert.notEqual(later, first, 'a newer key signs after the rotation');

  const carol = await connect(t, api, { user: 'carol' });
  await bob.invoke('broadcast', 'after');
  await settle(bob, [alice, bob, carol]);

  assert.deepEqual(got(alice), [['before'], ['after']]);
  assert.deepEqual(got(bob), [['before'], ['to bob'], ['after']]);
  assert.deepEqual(got(carol), [['after']]);

  const state = await (await fetchWithTimeout(`${emulator.url}/_emulator/entra`)).json();
  assert.ok(state.exchanges.succeeded >= 2, `a refresh after the rotation (${JSON.stringify(state.exchanges)})`);

  // REST calls carried the Entra token; none was refused
  const log = await emulator.log();
  const rest = log.filter((e) => e.kind === 'rest' && e.path.startsWith('/api/hubs/'));
  assert.ok(rest.length >= 5);
  for (const e of rest) {
    assert.ok(e.status < 300, `${e.method} ${e.path}: ${e.status}`);
    assert.match(e.headers.Authorization || e.headers.authorization, /^Bearer eyJ/);
  }
  // every upstream call came with a bearer token, and was taken
  const upstream = log.filter((e) => e.kind === 'upstream');
  assert.ok(upstream.length >= 6);
  for (const e of upstream) {
    assert.equal(e.status < 300, true, `upstream ${e.headers['X-ASRS-Event']}: ${e.status}`);
    assert.equal(e.headers['X-ASRS-Signature'], undefined);
  }
  assert.doesNotMatch(nginx.errorLog(), /\[(error|crit|alert|emerg)\]/);
});
