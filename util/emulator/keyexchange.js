'use strict';
// The service's side of Microsoft Entra ID: checking Entra bearer tokens
// (key exchange and REST), the role assignment, and the access key exchange
// (GET /api/v1/auth/accessKey, what MicrosoftEntraAccessKey.cs of
// Azure/azure-signalr calls; GET /api/auth/accessKey?api-version=2024-12-01
// in the REST spec). The exchange hands out a signing key with a KeyId;
// tokens signed with it carry that KeyId as `kid`.

const crypto = require('node:crypto');
const jwt = require('./jwt');
const { APP_SERVER_ROLE } = require('./entra');
const { sendJson, sendText } = require('./httputil');

const ROUTES = ['/api/v1/auth/accesskey', '/api/auth/accesskey'];
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const ACCESS_KEY_LENGTH = 64;
const RETIRED_LIMIT = 1000; // remembered only for clearer messages

// A random alphanumeric string without modulo bias: bytes >= 248 (the
// largest multiple of 62 below 256) are drawn again.
function randomAlphanumeric(length) {
  let out = '';
  while (out.length < length) {
    for (const byte of crypto.randomBytes(length)) {
      if (byte < 248 && out.length < length) out += ALPHANUMERIC[byte % 62];
    }
  }
  return out;
}

const iso = (ms) => new Date(ms).toISOString();

class KeyExchange {
  // tokens: the TokenService; roles: RoleAssignments; keyLifetime: seconds
  // the exchange hands out one key; keyGrace: seconds after its issue a key
  // is accepted (>= keyLifetime); disableLocalAuth: refuse tokens signed
  // with the access keys.
  constructor({ tokens, roles, keyLifetime, keyGrace, disableLocalAuth, eventLog, log }) {
    this.tokens = tokens;
    this.roles = roles;
    this.lifetimeMs = keyLifetime * 1000;
    this.graceMs = keyGrace * 1000;
    this.disableLocalAuth = disableLocalAuth;
    this.eventLog = eventLog;
    this.log = log;
    this.keys = [];           // { id, value, issuedAt (ms) }, oldest first, all accepted
    this.retired = new Map(); // id -> { issuedAt, reason }
    this.resetCounters();
  }

  resetCounters() {
    this.exchanges = { requests: 0, succeeded: 0 };
  }

  // The key the exchange hands out now; a new one once the last one has
  // been handed out for keyLifetime.
  current(now = Date.now()) {
    this.prune(now);
    const last = this.keys[this.keys.length - 1];
    if (last && now < last.issuedAt + this.lifetimeMs) return last;
    return this.newKey(now);
  }

  newKey(now = Date.now()) {
    const key = { id: `t-${crypto.randomBytes(16).toString('hex')}`, value: randomAlphanumeric(ACCESS_KEY_LENGTH), issuedAt: now };
    this.keys.push(key);
    this.log(`access key ${key.id} issued`);
    return key;
  }

  // Starts a new key now. With `revoke`, the earlier keys stop being
  // accepted at once instead of at the end of their grace.
  rotate({ revoke = false } = {}, now = Date.now()) {
    if (revoke) for (const key of this.keys) this.retire(key, 'revoked');
    if (revoke) this.keys = [];
    return this.newKey(now);
  }

  prune(now) {
    while (this.keys.length > 0 && now >= this.keys[0].issuedAt + this.graceMs) this.retire(this.keys.shift(), 'expired');
  }

  retire(key, reason) {
    this.retired.set(key.id, { issuedAt: key.issuedAt, reason });
    if (this.retired.size > RETIRED_LIMIT) this.retired.delete(this.retired.keys().next().value);
  }

  // The keys an HS256 token with this header may be signed with (for
  // jwt.verify). A kid the exchange issued selects that key alone. Tokens
  // signed with an access key may have no kid or any other kid (the SDK
  // puts the key's hash code there), unless local auth is disabled.
  keysFor(header, accessKeys, now = Date.now()) {
    this.prune(now);
    const { kid } = header;
    if (typeof kid === 'string' && kid !== '') {
      const key = this.keys.find((k) => k.id === kid);
      if (key) return [key.value];
      const retired = this.retired.get(kid);
      if (retired) {
        throw new jwt.TokenError(`kid ${kid} is an access key that is no longer valid (issued ${iso(retired.issuedAt)}, ` +
          `${retired.reason === 'revoked' ? 'revoked' : `accepted for ${this.graceMs / 1000} s`}); ` +
          'get a new one from /api/v1/auth/accessKey');
      }
      if (kid.startsWith('t-')) {
        throw new jwt.TokenError(`unknown kid ${kid}: not a key from this service's /api/v1/auth/accessKey`);
      }
    }
    if (this.disableLocalAuth) {
      throw new jwt.TokenError('local auth is disabled: tokens signed with the access key are refused; ' +
        `sign with a key from /api/v1/auth/accessKey and put its KeyId in kid${kid === undefined ? '' : ` (kid is ${JSON.stringify(kid)})`}`);
    }
    return accessKeys;
  }

  // Checks the Entra bearer token of a request. Returns { identity,
  // claims } or a refusal { status: 401|403, error, identity? }.
  authorizeBearer(req) {
    const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization || '');
    if (!auth) return { status: 401, error: 'no bearer token' };
    let claims;
    try {
      claims = this.tokens.verify(auth[1]);
    } catch (e) {
      if (!(e instanceof jwt.TokenError)) throw e;
      return { status: 401, error: `invalid Microsoft Entra token: ${e.message}` };
    }
    const identity = this.tokens.identityOf(claims);
    if (!identity) return { status: 401, error: 'the token names no identity the stand-ins know' };
    if (!this.roles.holds(identity)) {
      return {
        status: 403, identity,
        error: `${identity.clientId} (object id ${identity.objectId}) has no role assignment "${APP_SERVER_ROLE}" on this resource`,
      };
    }
    return { identity, claims };
  }

  // Answers the request if it is an exchange route; returns whether it did.
  handle(req, res, url) {
    const route = ROUTES.indexOf(url.pathname.toLowerCase());
    if (route === -1) return false;
    this.exchanges.requests++;
    const entry = this.eventLog.add('access-key', { path: url.pathname });
    const answer = (status, text, identity, headers) => {
      Object.assign(entry, { clientId: identity?.clientId ?? null, objectId: identity?.objectId ?? null, status });
      if (status !== 200) entry.error = text;
      this.log(`access key ${url.pathname} client=${identity?.clientId ?? '-'} -> ${status}${status === 200 ? '' : ` ${text}`}`);
      if (status !== 200) sendText(res, status, text, headers);
    };
    if (req.method !== 'GET') {
      answer(405, 'The access key exchange takes GET.', undefined, { Allow: 'GET' });
      return true;
    }
    if (route === 1 && !API_VERSION.test(url.searchParams.get('api-version') ?? '')) {
      answer(400, 'Missing or invalid api-version.');
      return true;
    }
    const result = this.authorizeBearer(req);
    if (result.status) {
      const prefix = result.status === 401 ? 'Unauthorized' : 'Forbidden';
      answer(result.status, `${prefix}: ${result.error}`, result.identity, result.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
      return true;
    }
    const key = this.current();
    this.exchanges.succeeded++;
    entry.keyId = key.id;
    answer(200, undefined, result.identity);
    sendJson(res, 200, { KeyId: key.id, AccessKey: key.value });
    return true;
  }

  state(now = Date.now()) {
    this.prune(now);
    const last = this.keys[this.keys.length - 1];
    return {
      currentKeyId: last && now < last.issuedAt + this.lifetimeMs ? last.id : null,
      keyIds: this.keys.map((k) => k.id),
      keys: this.keys.map((k, i) => ({
        keyId: k.id,
        issuedAt: iso(k.issuedAt),
        // until its lifetime ends or a rotation starts the next key
        handedOutUntil: iso(Math.min(k.issuedAt + this.lifetimeMs, this.keys[i + 1]?.issuedAt ?? Infinity)),
        acceptedUntil: iso(k.issuedAt + this.graceMs),
      })),
      retiredKeyIds: [...this.retired.keys()],
      keyLifetime: this.lifetimeMs / 1000,
      keyGrace: this.graceMs / 1000,
      disableLocalAuth: this.disableLocalAuth,
      exchanges: { ...this.exchanges },
    };
  }
}

module.exports = { KeyExchange };
