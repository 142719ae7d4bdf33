'use strict';
// The Microsoft Entra ID stand-ins: the token services (IMDS, App Service,
// Entra v2 with a client secret or a federated assertion) and their
// refusals, the JWKS, the access key exchange with its role check and
// rotating keys, Entra tokens on the REST API, local auth disabled, and
// upstream calls with a managed identity's bearer token. RS256 signatures
// are checked here with node:crypto from the published JWK, not with the
// emulator's code.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const WebSocket = require('ws');
const { Emulator } = require('../emulator');
const {
  KEY, clientToken, restToken, startEmulator, request, rest, hubClient, upstreamServer, waitFor, eventLog, now,
} = require('./helpers');

const TENANT = '11111111-1111-4111-8111-111111111111';  // the default
const MI = '22222222-2222-4222-8222-222222222222';      // the default managed identity
const APP = 'a0a0a0a0-0000-4000-8000-000000000001';
const SECRET = 'app~secret.value-1';
const IDENTITY_HEADER = 'identity-header-secret';
const RESOURCE = 'https://signalr.azure.com';
const SCOPE = 'https://signalr.azure.com/.default';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const V = '?api-version=2022-06-01';
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
// What a Kubernetes federated token file holds (its signature is not checked).
const FEDERATED = `${b64({ alg: 'RS256', kid: 'k8s' })}.${b64({
  iss: 'https://oidc.example/', sub: 'system:serviceaccount:default:web', aud: 'api://AzureADTokenExchange',
})}.c2lnbmF0dXJl`;

const ENTRA = { entra: true, clientId: APP, clientSecret: SECRET, federatedToken: FEDERATED, identityHeader: IDENTITY_HEADER };

const decode = (segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
const claimsOf = (token) => decode(token.split('.')[1]);

// ---- requests ---------------------------------------------------------------

const imds = (emulator, query = `api-version=2018-02-01&resource=${RESOURCE}`, headers = { Metadata: 'true' }) =>
  request(emulator.port, 'GET', `/metadata/identity/oauth2/token?${query}`, { headers });

const appService = (emulator, query = `api-version=2019-08-01&resource=${RESOURCE}`,
  headers = { 'X-IDENTITY-HEADER': IDENTITY_HEADER }) => request(emulator.port, 'GET', `/msi/token?${query}`, { headers });

const SECRET_FORM = { grant_type: 'client_credentials', client_id: APP, client_secret: SECRET, scope: SCOPE };
const ASSERTION_FORM = {
  grant_type: 'client_credentials', client_id: APP, client_assertion_type: ASSERTION_TYPE, client_assertion: FEDERATED, scope: SCOPE,
};

// (GET carries the form as the query: Node.js frames no GET body.)
const v2 = (emulator, fields, { tenant = TENANT, method = 'POST' } = {}) => {
  const form = new URLSearchParams(fields).toString();
  return method === 'POST'
    ? request(emulator.port, method, `/${tenant}/oauth2/v2.0/token`,
      { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: form })
    : request(emulator.port, method, `/${tenant}/oauth2/v2.0/token?${form}`);
};

// An Entra token from IMDS, for the default managed identity.
async function entraToken(emulator) {
  const r = await imds(emulator);
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body).access_token;
}

async function appToken(emulator) {
  const r = await v2(emulator, SECRET_FORM);
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body).access_token;
}

const exchange = (emulator, token, path = '/api/v1/auth/accessKey') =>
  request(emulator.port, 'GET', path, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });

// { KeyId, AccessKey } from the exchange.
async function accessKey(emulator, token) {
  const r = await exchange(emulator, token ?? await entraToken(emulator));
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body);
}

const state = async (emulator) => JSON.parse((await request(emulator.port, 'GET', '/_emulator/entra')).body);
const rotate = async (emulator, query = '') =>
  JSON.parse((await request(emulator.port, 'POST', `/_emulator/entra/rotate${query}`)).body);

const negotiate = (emulator, token) => request(emulator.port, 'POST', '/client/negotiate?hub=chat&negotiateVersion=1',
  { headers: { Authorization: `Bearer ${token}` } });

// The status and body of a WebSocket upgrade (skipNegotiation form).
function upgrade(emulator, token) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${emulator.port}/client/?hub=chat`, { headers: { Authorization: `Bearer ${token}` } });
    ws.on('unexpected-response', (req, res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
    });
    ws.on('open', () => {
      ws.terminate();
      resolve({ status: 101 });
    });
    ws.on('error', (e) => (e.message.includes('Unexpected server response') ? undefined : reject(e)));
  });
}

const send = (emulator, token) => rest(emulator, 'POST', `/api/hubs/chat/:send${V}`, { token, body: { target: 'msg', arguments: ['hi'] } });

// ---- checks -------------------------------------------------------------------

// Verifies an RS256 token with the JWKS the emulator publishes; returns
// { header, claims }.
async function verifyWithJwks(emulator, token) {
  const [h, p, signature] = token.split('.');
  const header = decode(h);
  assert.deepEqual(header, { typ: 'JWT', alg: 'RS256', kid: header.kid });
  const { keys } = JSON.parse((await request(emulator.port, 'GET', `/${TENANT}/discovery/v2.0/keys`)).body);
  const jwk = keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, 'the kid is in the JWKS');
  const key = crypto.createPublicKey({ key: { kty: jwk.kty, n: jwk.n, e: jwk.e }, format: 'jwk' });
  assert.equal(key.asymmetricKeyDetails.modulusLength, 2048);
  assert.ok(crypto.verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(signature, 'base64url')), 'RS256 signature');
  return { header, claims: decode(p) };
}

function assertEntraError(r, status, error, code) {
  assert.equal(r.status, status, r.body);
  const body = JSON.parse(r.body);
  assert.equal(body.error, error, r.body);
  assert.deepEqual(body.error_codes, [code], r.body);
  assert.match(body.error_description, new RegExp(`^AADSTS${code}: `));
}

const objectId = async (emulator, clientId) => (await state(emulator)).identities.find((i) => i.clientId === clientId).objectId;

// ---- token services -----------------------------------------------------------

test('off by default: no token routes, no exchange, RS256 refused', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t);
  assert.equal((await imds(emulator)).status, 404);
  assert.equal((await exchange(emulator, 'x')).status, 404);
  assert.equal((await request(emulator.port, 'GET', '/_emulator/entra')).status, 404);
  const other = await startEmulator(t, { entra: true });
  const r = await send(emulator, await entraToken(other));
  assert.equal(r.status, 401);
  assert.match(r.body, /unsupported alg "RS256"/);
});

test('IMDS: a token for the managed identity, verifiable with the JWKS', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, ENTRA);
  const { keys } = JSON.parse((await request(emulator.port, 'GET', `/${TENANT}/discovery/v2.0/keys`)).body);
  assert.equal(keys.length, 1);
  assert.deepEqual(Object.keys(keys[0]).slice(0, 5), ['kty', 'use', 'kid', 'n', 'e']);
  assert.equal(keys[0].kty, 'RSA');
  assert.equal(keys[0].use, 'sig');

  const before = now();
  const r = await imds(emulator);
  assert.equal(r.status, 200, r.body);
  const body = JSON.parse(r.body);
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.resource, RESOURCE);
  assert.equal(body.client_id, MI);
  for (const name of ['expires_in', 'expires_on', 'ext_expires_in', 'not_before']) {
    assert.equal(typeof body[name], 'string', name);
    assert.match(body[name], /^\d+$/, name);
  }
  assert.equal(body.expires_in, '3599');
  const { claims } = await verifyWithJwks(emulator, body.access_token);
  assert.equal(claims.iss, `https://sts.windows.net/${TENANT}/`);
  assert.equal(claims.aud, RESOURCE);
  assert.equal(claims.appid, MI);
  assert.equal(claims.tid, TENANT);
  assert.equal(claims.oid, await objectId(emulator, MI));
  assert.equal(claims.sub, claims.oid);
  assert.deepEqual(claims.roles, ['SignalR App Server']);
  assert.ok(claims.iat >= before && claims.nbf === claims.iat);
  assert.equal(claims.exp - claims.iat, 3600);
  assert.equal(String(claims.exp), body.expires_on);

  // naming the identity by client id or object id, and the other resource form
  assert.equal((await imds(emulator, `api-version=2018-02-01&resource=${RESOURCE}&client_id=${MI}`)).status, 200);
  const oid = await objectId(emulator, MI);
  assert.equal((await imds(emulator, `api-version=2018-02-01&resource=${RESOURCE}/&object_id=${oid}`)).status, 200);
});

test('IMDS refusals', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, ENTRA);
  const refused = async (r, status, error, description) => {
    assert.equal(r.status, status, r.body);
    const body = JSON.parse(r.body);
    assert.equal(body.error, error);
    assert.match(body.error_description, description);
  };
  const q = `api-version=2018-02-01&resource=${RESOURCE}`;
  await refused(await imds(emulator, q, {}), 400, 'invalid_request', /metadata header/i);
  await refused(await imds(emulator, q, { Metadata: 'false' }), 400, 'invalid_request', /metadata header/i);
  await refused(await imds(emulator, q, { Metadata: 'true', 'X-Forwarded-For': '10.0.0.1' }), 400, 'invalid_request', /X-Forwarded-For/);
  await refused(await imds(emulator, `resource=${RESOURCE}`), 400, 'invalid_request', /api-version/);
  await refused(await imds(emulator, 'api-version=2018-02-01'), 400, 'invalid_request', /resource/);
  await refused(await imds(emulator, 'api-version=2018-02-01&resource=https://management.azure.com/'), 400, 'invalid_resource', /AADSTS500011/);
  await refused(await imds(emulator, `${q}&client_id=${APP}`), 400, 'invalid_request', /Identity not found/);
  const s = await state(emulator);
  assert.equal(s.tokenRequests.imds, 7);
  assert.equal(s.tokensIssued.imds, 0);
});

test('App Service form: X-IDENTITY-HEADER, expires_on a number', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, ENTRA);
  const r = await appService(emulator);
  assert.equal(r.status, 200, r.body);
  const body = JSON.parse(r.body);
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.resource, RESOURCE);
  assert.equal(typeof body.expires_on, 'number');
  const { claims } = await verifyWithJwks(emulator, body.access_token);
  assert.equal(claims.iss, `https://sts.windows.net/${TENANT}/`);
  assert.equal(claims.appid, MI);
  assert.equal(claims.exp, body.expires_on);
  assert.equal((await appService(emulator, `api-version=2019-08-01&resource=${RESOURCE}&client_id=${MI}`)).status, 200);

  assert.equal((await appService(emulator, undefined, {})).status, 400, 'no header');
  assert.equal((await appService(emulator, undefined, { 'X-IDENTITY-HEADER': 'wrong' })).status, 401, 'wrong header');
  assert.equal((await appService(emulator, `api-version=2017-09-01&resource=${RESOURCE}`)).status, 400, 'api-version');
  assert.equal((await appService(emulator, 'api-version=2019-08-01&resource=https://vault.azure.net')).status, 400, 'resource');
  assert.equal((await appService(emulator, `api-version=2019-08-01&resource=${RESOURCE}&client_id=nope`)).status, 400, 'identity');
  const s = await state(emulator);
  assert.deepEqual([s.tokenRequests.appService, s.tokensIssued.appService], [7, 2]);

  const without = await startEmulator(t, { entra: true });
  assert.equal((await appService(without)).status, 404, 'off without --identity-header');
});

test('Entra v2: client secret', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, ENTRA);
  const r = await v2(emulator, SECRET_FORM);
  assert.equal(r.status, 200, r.body);
  const body = JSON.parse(r.body);
  assert.deepEqual(Object.keys(body), ['token_type', 'expires_in', 'ext_expires_in', 'access_token']);
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.expires_in, 3599);
  assert.equal(body.ext_expires_in, 3599);
  const { claims } = await verifyWithJwks(emulator, body.access_token);
  assert.equal(claims.iss, `https://login.microsoftonline.com/${TENANT}/v2.0`);
  assert.equal(claims.aud, RESOURCE);
  assert.equal(claims.azp, APP);
  assert.equal(claims.tid, TENANT);
  assert.equal(claims.oid, await objectId(emulator, APP));
  assert.equal(claims.ver, '2.0');

  assertEntraError(await v2(emulator, { ...SECRET_FORM, client_secret: 'wrong' }), 401, 'invalid_client', 7000215);
  assertEntraError(await v2(emulator, { ...SECRET_FORM, client_secret: '' }), 401, 'invalid_client', 7000215);
  const { client_secret: _, ...noSecret } = SECRET_FORM;
  assertEntraError(await v2(emulator, noSecret), 401, 'invalid_client', 7000218);
  assertEntraError(await v2(emulator, { ...SECRET_FORM, client_id: MI }), 400, 'unauthorized_client', 700016);
  assertEntraError(await v2(emulator, SECRET_FORM, { tenant: 'contoso.onmicrosoft.com' }), 400, 'invalid_request', 90002);
  assertEntraError(await v2(emulator, { ...SECRET_FORM, scope: 'https://vault.azure.net/.default' }), 400, 'invalid_scope', 70011);
  assertEntraError(await v2(emulator, { ...SECRET_FORM, scope: RESOURCE }), 400, 'invalid_scope', 1002012);
  assertEntraError(await v2(emulator, { ...SECRET_FORM, grant_type: 'password' }), 400, 'unsupported_grant_type', 70003);
  const { scope: __, ...noScope } = SECRET_FORM;
  assertEntraError(await v2(emulator, noScope), 400, 'invalid_request', 900144);
  assertEntraError(await v2(emulator, SECRET_FORM, { method: 'GET' }), 400, 'invalid_request', 900561);
  const json = await request(emulator.port, 'POST', `/${TENANT}/oauth2/v2.0/token`,
    { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(SECRET_FORM) });
  assertEntraError(json, 400, 'invalid_request', 900144);
  const s = await state(emulator);
  assert.deepEqual([s.tokenRequests.clientSecret, s.tokensIssued.clientSecret], [12, 1]);
});

test('Entra v2: federated assertion (workload identity)', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, ENTRA);
  const r = await v2(emulator, ASSERTION_FORM);
  assert.equal(r.status, 200, r.body);
  const { claims } = await verifyWithJwks(emulator, JSON.parse(r.body).access_token);
  assert.equal(claims.azp, APP);
  assert.equal(claims.azpacr, '2');

  const wrong = await v2(emulator, { ...ASSERTION_FORM, client_assertion: `${FEDERATED}x` });
  assertEntraError(wrong, 401, 'invalid_client', 700213);
  assert.match(JSON.parse(wrong.body).error_description, /system:serviceaccount:default:web/);
  assertEntraError(await v2(emulator, { ...ASSERTION_FORM, client_assertion_type: 'bearer' }), 400, 'invalid_request', 90014);
  assertEntraError(await v2(emulator, { ...ASSERTION_FORM, client_id: 'someone-else' }), 400, 'unauthorized_client', 700016);

  // an app registration without a federated credential accepts no assertion
  const secretOnly = await startEmulator(t, { entra: true, clientId: APP, clientSecret: SECRET });
  assertEntraError(await v2(secretOnly, ASSERTION_FORM), 401, 'invalid_client', 700213);
  const s = await state(emulator);
  assert.deepEqual([s.tokenRequests.clientAssertion, s.tokensIssued.clientAssertion], [4, 1]);
});

test('JWKS of another tenant: 400', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, { entra: true, tenant: 'contoso.onmicrosoft.com' });
  assert.equal((await request(emulator.port, 'GET', '/contoso.onmicrosoft.com/discovery/v2.0/keys')).status, 200);
  const r = await request(emulator.port, 'GET', `/${TENANT}/discovery/v2.0/keys`);
  assert.equal(r.status, 400);
  assert.equal(JSON.parse(r.body).error, 'invalid_tenant');
});

// ---- the access key exchange ---------------------------------------------------

test('exchange: one token request, one exchange, a key that signs client and REST tokens', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, ENTRA);
  const token = await entraToken(emulator);
  const r = await exchange(emulator, token);
  assert.equal(r.status, 200, r.body);
  assert.match(r.headers['content-type'], /^application\/json/);
  const key = JSON.parse(r.body);
  assert.deepEqual(Object.keys(key), ['KeyId', 'AccessKey']);
  assert.match(key.KeyId, /^t-[0-9a-f]+$/);
  assert.match(key.AccessKey, /^[A-Za-z0-9]{52,}$/);

  const s = await state(emulator);
  assert.equal(Object.values(s.tokenRequests).reduce((a, b) => a + b), 1);
  assert.deepEqual(s.exchanges, { requests: 1, succeeded: 1 });
  assert.equal(s.currentKeyId, key.KeyId);
  assert.deepEqual(s.keyIds, [key.KeyId]);

  // the same key until its lifetime ends, on both routes
  assert.deepEqual(await accessKey(emulator, token), key);
  const spec = await exchange(emulator, token, '/api/auth/accessKey?api-version=2024-12-01');
  assert.equal(spec.status, 200, spec.body);
  assert.deepEqual(JSON.parse(spec.body), key);
  assert.equal((await exchange(emulator, token, '/api/auth/accessKey')).status, 400, 'api-version required');
  assert.equal((await request(emulator.port, 'POST', '/api/v1/auth/accessKey', { headers: { Authorization: `Bearer ${token}` } })).status, 405);

  const signed = { key: key.AccessKey, kid: key.KeyId };
  assert.equal((await negotiate(emulator, clientToken(signed))).status, 200);
  const c = await hubClient(t, emulator, { token: clientToken({ ...signed, user: 'alice' }) });
  const path = '/api/hubs/chat/:send';
  assert.equal((await send(emulator, restToken(path, signed))).status, 202);
  assert.deepEqual(await c.inbox.next(), ['hi']);
  // the access key still works (local auth on), with or without a kid
  assert.equal((await negotiate(emulator, clientToken())).status, 200);
  assert.equal((await negotiate(emulator, clientToken({ kid: '-1389231470' }))).status, 200);
  // but not the exchanged key under another kid, nor a kid with the access key
  assert.equal((await negotiate(emulator, clientToken({ key: key.AccessKey }))).status, 401);
  assert.equal((await negotiate(emulator, clientToken({ key: KEY, kid: key.KeyId }))).status, 401);

  await request(emulator.port, 'DELETE', '/_emulator/entra');
  const reset = await state(emulator);
  assert.equal(Object.values(reset.tokenRequests).reduce((a, b) => a + b), 0);
  assert.deepEqual(reset.exchanges, { requests: 0, succeeded: 0 });
  assert.equal(reset.currentKeyId, key.KeyId, 'keys are kept');
});

test('exchange refuses missing, invalid and expired bearer tokens with 401', { timeout: 20000 }, async (t) => {
  const emulator = await startEmulator(t, ENTRA);
  const good = claimsOf(await entraToken(emulator));
  const sign = (changes) => emulator.tokenService.sign({ ...good, ...changes });
  // the same kid, another RSA key
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const [h, p] = sign({}).split('.');
  const forged = `${h}.${p}.${crypto.sign('sha256', Buffer.from(`${h}.${p}`), privateKey).toString('base64url')}`;
  const cases = [
    ['no token', undefined, /no bearer token/],
    ['garbage', 'garbage', /malformed/],
    ['another key', forged, /invalid signature/],
    ['expired', sign({ iat: now() - 7200, nbf: now() - 7200, exp: now() - 60 }), /expired/],
    ['not yet valid', sign({ nbf: now() + 60 }), /nbf/],
    ['another audience', sign({ aud: 'https://management.azure.com/' }), /aud/],
    ['another tenant\'s issuer', sign({ iss: 'https://sts.windows.net/00000000-0000-0000-0000-000000000000/' }), /iss/],
    ['an access-key token', restToken('/api/v1/auth/accessKey'), /unsupported alg "HS256"/],
  ];
  for (const [what, token, reason] of cases) {
    const r = await exchange(emulator, token);
    assert.equal(r.status, 401, what);
    assert.equal(r.headers['www-authenticate'], 'Bearer', what);
    assert.match(r.body, reason, what);
  }
  const s = await state(emulator);
  assert.deepEqual(s.exchanges, { requests: cases.length, succeeded: 0 });
  assert.equal(s.currentKeyId, null);

  // and on REST
  for (const [what, token, reason] of cases.slice(2, 7)) {
    const r = await send(emulator, token);
    assert.equal(r.status, 401, what);
    assert.match(r.body, reason, what);
  }
});

test('role assignment: 403 without "SignalR App Server"', { timeout: 10000 }, async (t) => {
  const none = await startEmulator(t, { ...ENTRA, roleHolders: 'none' });
  const token = await entraToken(none);
  assert.equal(claimsOf(token).roles, undefined);
  const r = await exchange(none, token);
  assert.equal(r.status, 403);
  assert.match(r.body, new RegExp(`${MI}.*SignalR App Server`));
  assert.equal((await send(none, token)).status, 403, 'REST too');
  const entry = (await eventLog(none)).find((e) => e.kind === 'access-key');
  assert.deepEqual([entry.status, entry.clientId], [403, MI]);

  // a list: the app by client id, the managed identity refused
  const byClientId = await startEmulator(t, { ...ENTRA, roleHolders: APP });
  assert.equal((await exchange(byClientId, await appToken(byClientId))).status, 200);
  assert.equal((await exchange(byClientId, await entraToken(byClientId))).status, 403);
  // the managed identity by object id
  const oid = await objectId(byClientId, MI);
  const byObjectId = await startEmulator(t, { ...ENTRA, roleHolders: `x, ${oid.toUpperCase()}` });
  assert.equal((await exchange(byObjectId, await entraToken(byObjectId))).status, 200);
  assert.equal((await exchange(byObjectId, await appToken(byObjectId))).status, 403);
  assert.deepEqual((await state(byObjectId)).roleHolders, ['x', oid]);
});

test('REST with the Entra token itself', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, ENTRA);
  const c = await hubClient(t, emulator, { user: 'u' });
  for (const token of [await entraToken(emulator), await appToken(emulator)]) {
    assert.equal((await send(emulator, token)).status, 202);
    assert.deepEqual(await c.inbox.next(), ['hi']);
  }
  const r = await rest(emulator, 'HEAD', `/api/hubs/chat/users/u${V}`, { token: await appToken(emulator) });
  assert.equal(r.status, 200);
});

// ---- rotation --------------------------------------------------------------------

test('rotation: old keys accepted for the grace, revoked or unknown kids refused (negotiate, WebSocket, REST)', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, ENTRA);
  const a = await accessKey(emulator);
  const b = await rotate(emulator);
  assert.notEqual(b.keyId, a.KeyId);
  assert.deepEqual(b.revokedKeyIds, []);
  assert.equal((await accessKey(emulator)).KeyId, b.keyId, 'the exchange hands out the new key');
  const withA = clientToken({ key: a.AccessKey, kid: a.KeyId });
  assert.equal((await negotiate(emulator, withA)).status, 200, 'within the grace');
  assert.deepEqual((await state(emulator)).keyIds, [a.KeyId, b.keyId]);

  const c = await rotate(emulator, '?revoke=true');
  assert.deepEqual(c.revokedKeyIds, [a.KeyId, b.keyId]);
  const s = await state(emulator);
  assert.deepEqual(s.keyIds, [c.keyId]);
  assert.deepEqual(s.retiredKeyIds, [a.KeyId, b.keyId]);

  const refusedA = await negotiate(emulator, withA);
  assert.equal(refusedA.status, 401);
  assert.match(refusedA.body, new RegExp(`kid ${a.KeyId} is an access key that is no longer valid`));
  const ws = await upgrade(emulator, withA);
  assert.equal(ws.status, 401);
  assert.match(ws.body, /no longer valid/);
  const restA = await send(emulator, restToken('/api/hubs/chat/:send', { key: a.AccessKey, kid: a.KeyId }));
  assert.equal(restA.status, 401);
  assert.match(restA.body, /no longer valid/);

  const unknown = clientToken({ key: a.AccessKey, kid: 't-0123456789abcdef' });
  const r = await negotiate(emulator, unknown);
  assert.equal(r.status, 401);
  assert.match(r.body, /unknown kid t-0123456789abcdef/);
  assert.equal((await upgrade(emulator, unknown)).status, 401);

  const withC = clientToken({ key: (await accessKey(emulator)).AccessKey, kid: c.keyId });
  assert.equal((await negotiate(emulator, withC)).status, 200);
  assert.equal((await upgrade(emulator, withC)).status, 101);
  const log = await eventLog(emulator);
  assert.ok(log.some((e) => e.kind === 'connect' && e.status === 401 && /no longer valid/.test(e.error)));
});

test('rotation by time: a new key after the lifetime, the old one refused after the grace', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, { ...ENTRA, entraKeyLifetime: 0.3, entraKeyGrace: 0.9 });
  const token = await entraToken(emulator);
  const before = Date.now(); // the key is issued after this
  const a = await accessKey(emulator, token);
  assert.equal((await accessKey(emulator, token)).KeyId, a.KeyId);
  await waitFor(async () => (await state(emulator)).currentKeyId === null, 'the end of the lifetime');
  assert.ok(Date.now() - before >= 300, 'a new key too early');
  const b = await accessKey(emulator, token);
  assert.notEqual(b.KeyId, a.KeyId);
  const withA = clientToken({ key: a.AccessKey, kid: a.KeyId });
  const accepted = (await negotiate(emulator, withA)).status === 200;
  assert.ok(accepted || Date.now() - before >= 900, 'within the grace');
  await waitFor(async () => (await negotiate(emulator, withA)).status === 401, 'the end of the grace');
  assert.ok(Date.now() - before >= 900, 'refused too early');
  assert.equal((await negotiate(emulator, clientToken({ key: b.AccessKey, kid: b.KeyId }))).status, 200);
  assert.deepEqual((await state(emulator)).exchanges, { requests: 3, succeeded: 3 });
});

// ---- local auth disabled -----------------------------------------------------------

test('local auth disabled: access-key tokens refused everywhere, Entra and exchanged keys accepted', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, { ...ENTRA, disableLocalAuth: true });
  for (const token of [clientToken(), clientToken({ kid: '-1389231470' })]) {
    const r = await negotiate(emulator, token);
    assert.equal(r.status, 401);
    assert.match(r.body, /local auth is disabled/);
    assert.equal((await upgrade(emulator, token)).status, 401);
  }
  const path = '/api/hubs/chat/:send';
  const r = await send(emulator, restToken(path));
  assert.equal(r.status, 401);
  assert.match(r.body, /local auth is disabled/);

  const key = await accessKey(emulator);
  const c = await hubClient(t, emulator, { token: clientToken({ key: key.AccessKey, kid: key.KeyId }) });
  assert.equal((await send(emulator, await entraToken(emulator))).status, 202);
  assert.deepEqual(await c.inbox.next(), ['hi']);
  assert.equal((await send(emulator, restToken(path, { key: key.AccessKey, kid: key.KeyId }))).status, 202);
  assert.deepEqual(await c.inbox.next(), ['hi']);
  assert.equal((await state(emulator)).disableLocalAuth, true);
});

// ---- upstream ---------------------------------------------------------------------

test('upstream with a managed identity: a bearer token, no signature', { timeout: 10000 }, async (t) => {
  const up = await upstreamServer(t);
  const emulator = await startEmulator(t, {
    entra: true, upstream: `http://127.0.0.1:${up.port}/up/{event}`, upstreamAuth: 'entra', upstreamAudience: 'api://my-app',
  });
  const c = await hubClient(t, emulator, { user: 'u' });
  const connected = await up.next('connections', 'connected');
  assert.equal(connected.headers['x-asrs-signature'], undefined);
  const auth = /^Bearer (\S+)$/.exec(connected.headers.authorization);
  assert.ok(auth, connected.headers.authorization);
  const { claims } = await verifyWithJwks(emulator, auth[1]);
  assert.equal(claims.aud, 'api://my-app');
  assert.equal(claims.iss, `https://sts.windows.net/${TENANT}/`);
  assert.equal(claims.tid, TENANT);
  assert.equal(claims.appid, MI);
  assert.equal(claims.oid, await objectId(emulator, MI));
  assert.equal(claims.exp - claims.iat, 3600);
  assert.equal(claims.roles, undefined);

  await c.connection.stop();
  const disconnected = await up.next('connections', 'disconnected');
  assert.equal(disconnected.headers.authorization, connected.headers.authorization, 'the token is reused');
  const s = await state(emulator);
  assert.equal(s.tokensIssued.upstream, 1);
  assert.equal(s.upstreamAudience, 'api://my-app');

  // --entra alone keeps the signature
  const signed = await startEmulator(t, { entra: true, upstream: `http://127.0.0.1:${up.port}/up/{event}` });
  const from = up.requests.length;
  await hubClient(t, signed, {});
  const req = await up.next('connections', 'connected', from);
  assert.match(req.headers['x-asrs-signature'], /^sha256=/);
  assert.equal(req.headers.authorization, undefined);
});

// ---- log, options ---------------------------------------------------------------

test('the log records token requests and exchanges without secrets or tokens', { timeout: 10000 }, async (t) => {
  const emulator = await startEmulator(t, ENTRA);
  const tokens = [
    await entraToken(emulator),
    JSON.parse((await appService(emulator)).body).access_token,
    await appToken(emulator),
    JSON.parse((await v2(emulator, ASSERTION_FORM)).body).access_token,
  ];
  await v2(emulator, { ...SECRET_FORM, client_secret: 'wrong-secret' });
  const key = await accessKey(emulator, tokens[0]);
  await exchange(emulator, 'not-a-token');
  const log = await eventLog(emulator);
  const text = JSON.stringify(log);
  for (const secret of [SECRET, 'wrong-secret', FEDERATED, IDENTITY_HEADER, key.AccessKey, 'not-a-token', ...tokens]) {
    assert.ok(!text.includes(secret), 'a secret or token in the log');
  }
  const requests = log.filter((e) => e.kind === 'entra-token').map(({ flow, clientId, status }) => ({ flow, clientId, status }));
  assert.deepEqual(requests, [
    { flow: 'imds', clientId: MI, status: 200 },
    { flow: 'appService', clientId: MI, status: 200 },
    { flow: 'clientSecret', clientId: APP, status: 200 },
    { flow: 'clientAssertion', clientId: APP, status: 200 },
    { flow: 'clientSecret', clientId: APP, status: 401 },
  ]);
  const exchanges = log.filter((e) => e.kind === 'access-key');
  assert.deepEqual(exchanges.map((e) => [e.status, e.clientId, e.keyId]), [[200, MI, key.KeyId], [401, null, undefined]]);
});

test('Entra options are checked', () => {
  const throws = (options, message) => assert.throws(() => new Emulator({ log: () => {}, ...options }), message);
  throws({ clientId: APP }, /--client-id needs --entra/);
  throws({ disableLocalAuth: true }, /--disable-local-auth needs --entra/);
  throws({ upstreamAuth: 'entra' }, /--upstream-auth needs --entra/);
  throws({ entra: true, upstreamAuth: 'key' }, /--upstream-auth must be one of signature, entra/);
  throws({ entra: true, upstreamAudience: 'api://x' }, /--upstream-audience needs --upstream-auth entra/);
  throws({ entra: true, clientSecret: SECRET }, /--client-secret needs --client-id/);
  throws({ entra: true, clientId: MI }, /must differ/);
  throws({ entra: true, tenant: 'a/b' }, /--tenant/);
  throws({ entra: true, entraKeyLifetime: 10, entraKeyGrace: 5 }, /--entra-key-grace must be at least/);
  throws({ entra: true, entraTokenLifetime: 0 }, /--entra-token-lifetime must be a positive/);
  throws({ entra: true, roleHolders: ' , ' }, /--role-holders/);
});
