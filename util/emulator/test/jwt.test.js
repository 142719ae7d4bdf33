'use strict';
// Token verification, checked against fixed HS256 vectors (their HMACs
// checked with openssl dgst -sha256 -hmac).

const test = require('node:test');
const assert = require('node:assert/strict');
const jwt = require('../jwt');
const { mint, KEY } = require('./helpers');

const CONTOSO_KEY = 'Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM=';
const CONTOSO_CLIENT_AUD = 'https://contoso.service.signalr.net/client/?hub=chat';
const T0 = 1700000000; // nbf/iat of every vector; exp is T0 + 3600

// The vectors (header {"alg":"HS256","typ":"JWT"}).
const VECTORS = [
  {
    name: 'client-user',
    key: CONTOSO_KEY,
    payload: { 'asrs.s.uid': 'alice', nbf: T0, exp: T0 + 3600, iat: T0, aud: CONTOSO_CLIENT_AUD },
    token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhc3JzLnMudWlkIjoiYWxpY2UiLCJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwiaWF0IjoxNzAwMDAwMDAwLCJhdWQiOiJodHRwczovL2NvbnRvc28uc2VydmljZS5zaWduYWxyLm5ldC9jbGllbnQvP2h1Yj1jaGF0In0.pYxAZb7lZOUiSvbvwVgj-YaqbEUxkSJ8YJF72hvOBIg',
  },
  {
    name: 'client-anonymous-emulator',
    key: KEY,
    payload: { nbf: T0, exp: T0 + 3600, iat: T0, aud: 'http://localhost/client/?hub=chat' },
    token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYmYiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMCwiaWF0IjoxNzAwMDAwMDAwLCJhdWQiOiJodHRwOi8vbG9jYWxob3N0L2NsaWVudC8_aHViPWNoYXQifQ.IPoaKsg8bXpK_klTLGZvwTuwCjZpI_ulGXkBULpUWRY',
  },
  {
    name: 'rest-broadcast',
    key: CONTOSO_KEY,
    payload: { nameid: 'nginx', nbf: T0, exp: T0 + 3600, iat: T0, aud: 'https://contoso.service.signalr.net/api/hubs/chat/:send?api-version=2022-06-01' },
    token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYW1laWQiOiJuZ2lueCIsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDAsImF1ZCI6Imh0dHBzOi8vY29udG9zby5zZXJ2aWNlLnNpZ25hbHIubmV0L2FwaS9odWJzL2NoYXQvOnNlbmQ_YXBpLXZlcnNpb249MjAyMi0wNi0wMSJ9.gBKt4PbmCaevw-omMyXmsyWciooAHdR8-OTIhkZgD70',
  },
  {
    name: 'client-custom-claims',
    key: CONTOSO_KEY,
    payload: { 'asrs.s.uid': 'bob', role: ['admin', 'ops'], 'asrs.u.exp': '1800000000', nbf: T0, exp: T0 + 3600, iat: T0, aud: CONTOSO_CLIENT_AUD },
    token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhc3JzLnMudWlkIjoiYm9iIiwicm9sZSI6WyJhZG1pbiIsIm9wcyJdLCJhc3JzLnUuZXhwIjoiMTgwMDAwMDAwMCIsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwLCJpYXQiOjE3MDAwMDAwMDAsImF1ZCI6Imh0dHBzOi8vY29udG9zby5zZXJ2aWNlLnNpZ25hbHIubmV0L2NsaWVudC8_aHViPWNoYXQifQ.Ax-M2Gz8aBmHaFpSOWZigtu9wFuirvsLVIWogobh6Ao',
  },
];

test('the tests\' token minter reproduces the vectors', () => {
  for (const v of VECTORS) assert.equal(mint(v.payload, v.key), v.token, v.name);
});

test('the vectors verify with their key and audience', () => {
  for (const v of VECTORS) {
    const claims = jwt.verify(v.token, { keys: [v.key], audiences: [v.payload.aud], now: T0 + 10 });
    assert.deepEqual(claims, v.payload, v.name);
  }
});

test('any of several keys verifies', () => {
  const v = VECTORS[0];
  assert.ok(jwt.verify(v.token, { keys: [KEY, CONTOSO_KEY], audiences: [CONTOSO_CLIENT_AUD], now: T0 }));
});

const [CLIENT] = VECTORS;
const verifyClient = (token, options = {}) =>
  jwt.verify(token, { keys: [CONTOSO_KEY], audiences: [CONTOSO_CLIENT_AUD], now: T0 + 10, ...options });

const rejections = [
  ['a wrong key', () => verifyClient(CLIENT.token, { keys: [KEY] }), /invalid signature/],
  ['a tampered payload', () => {
    const [h, , s] = CLIENT.token.split('.');
    const payload = Buffer.from(JSON.stringify({ ...CLIENT.payload, 'asrs.s.uid': 'mallory' })).toString('base64url');
    return verifyClient(`${h}.${payload}.${s}`);
  }, /invalid signature/],
  ['another audience', () => verifyClient(CLIENT.token, { audiences: ['https://contoso.service.signalr.net/client/?hub=other'] }), /aud/],
  ['expiry', () => verifyClient(CLIENT.token, { now: T0 + 3600 + 6 }), /expired/],
  ['nbf in the future', () => verifyClient(CLIENT.token, { now: T0 - 6 }), /nbf/],
  ['no exp', () => verifyClient(mint({ aud: CONTOSO_CLIENT_AUD }, CONTOSO_KEY)), /no exp/],
  ['alg none', () => {
    const [, p] = CLIENT.token.split('.');
    const h = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
    return verifyClient(`${h}.${p}.`);
  }, /unsupported alg/],
  ['alg HS384', () => verifyClient(mint(CLIENT.payload, CONTOSO_KEY, { alg: 'HS384', typ: 'JWT' })), /unsupported alg/],
  ['two segments', () => verifyClient(CLIENT.token.split('.').slice(0, 2).join('.')), /malformed/],
  ['a non-JSON payload', () => {
    const [h] = CLIENT.token.split('.');
    const signed = `${h}.${Buffer.from('nope').toString('base64url')}`;
    const s = require('node:crypto').createHmac('sha256', CONTOSO_KEY).update(signed).digest('base64url');
    return verifyClient(`${signed}.${s}`);
  }, /payload is not base64url JSON/],
];
for (const [what, run, message] of rejections) {
  test(`rejects ${what}`, () => assert.throws(run, (e) => e instanceof jwt.TokenError && message.test(e.message)));
}

test('allows 5 seconds of clock skew on exp and nbf', () => {
  assert.ok(verifyClient(CLIENT.token, { now: T0 + 3600 + 4 }));
  assert.ok(verifyClient(CLIENT.token, { now: T0 - 4 }));
});

test('accepts HS512 and an array aud', () => {
  const token = mint({ ...CLIENT.payload, aud: ['x', CONTOSO_CLIENT_AUD] }, CONTOSO_KEY, { alg: 'HS512', typ: 'JWT' });
  assert.equal(verifyClient(token)['asrs.s.uid'], 'alice');
});

test('user id: asrs.s.uid, else nameid, else sub; empty asrs.s.uid is absent', () => {
  assert.equal(jwt.userId({ 'asrs.s.uid': 'a', nameid: 'b', sub: 'c' }), 'a');
  assert.equal(jwt.userId({ nameid: 'b', sub: 'c' }), 'b');
  assert.equal(jwt.userId({ sub: 'c' }), 'c');
  assert.equal(jwt.userId({ 'asrs.s.uid': '', nameid: 'b' }), 'b');
  assert.equal(jwt.userId({ aud: 'x' }), undefined);
});

test('claims render as "type: value" joined by ", ", arrays one item each', () => {
  assert.equal(jwt.claimsHeader(VECTORS[3].payload),
    'asrs.s.uid: bob, role: admin, role: ops, asrs.u.exp: 1800000000, nbf: 1700000000, ' +
    'exp: 1700003600, iat: 1700000000, aud: https://contoso.service.signalr.net/client/?hub=chat');
  assert.equal(jwt.claimsHeader({ ok: true, o: { a: 1 } }), 'ok: true, o: {"a":1}');
});

test('keys may be chosen by the header (kid), which may refuse', () => {
  const token = mint(CLIENT.payload, CONTOSO_KEY, { alg: 'HS256', typ: 'JWT', kid: 't-1' });
  const seen = [];
  const keys = (header) => {
    seen.push(header);
    if (header.kid !== 't-1') throw new jwt.TokenError(`unknown kid ${header.kid}`);
    return [CONTOSO_KEY];
  };
  assert.equal(verifyClient(token, { keys })['asrs.s.uid'], 'alice');
  assert.deepEqual(seen, [{ alg: 'HS256', typ: 'JWT', kid: 't-1' }]);
  const other = mint(CLIENT.payload, CONTOSO_KEY, { alg: 'HS256', typ: 'JWT', kid: 't-2' });
  assert.throws(() => verifyClient(other, { keys }), (e) => e instanceof jwt.TokenError && /unknown kid t-2/.test(e.message));
});

test('RS256: signs with header {typ, alg, kid}; verifies kid, signature, iss, aud, exp', () => {
  const crypto = require('node:crypto');
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const payload = { iss: 'https://issuer/', aud: 'https://signalr.azure.com', exp: T0 + 3600, nbf: T0 };
  const token = jwt.signRs256(payload, { privateKey, kid: 'k1' });
  assert.deepEqual(jwt.header(token), { typ: 'JWT', alg: 'RS256', kid: 'k1' });
  const options = { publicKeys: new Map([['k1', publicKey]]), audiences: [payload.aud], issuers: [payload.iss], now: T0 + 10 };
  assert.deepEqual(jwt.verifyRs256(token, options), payload);
  const refused = (changes, message) => assert.throws(() => jwt.verifyRs256(token, { ...options, ...changes }),
    (e) => e instanceof jwt.TokenError && message.test(e.message));
  refused({ publicKeys: new Map([['k2', publicKey]]) }, /unknown signing key kid "k1"/);
  refused({ publicKeys: new Map([['k1', crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey]]) }, /invalid signature/);
  refused({ issuers: ['https://other/'] }, /iss "https:\/\/issuer\/" is not "https:\/\/other\/"/);
  refused({ audiences: ['x'] }, /aud/);
  refused({ now: T0 + 3600 + 5 }, /expired/);
  assert.throws(() => jwt.verifyRs256(VECTORS[0].token, options), /unsupported alg "HS256", expected RS256/);
});
