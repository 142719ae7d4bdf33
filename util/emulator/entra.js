'use strict';
// Stand-ins for Microsoft Entra ID and the managed-identity token services
// an app uses to get an Entra token for Azure SignalR Service ("keyless"):
// the Azure Instance Metadata Service (IMDS), the App Service / Functions /
// Container Apps identity endpoint, and Entra's v2 token endpoint with a
// client secret or a federated (workload identity) assertion. They sign
// RS256 with an RSA key made at start and publish it as a JWKS. See
// docs/emulator.md, "Microsoft Entra ID stand-ins".

const crypto = require('node:crypto');
const jwt = require('./jwt');
const { sendJson, sendText, readBody } = require('./httputil');

const SIGNALR_RESOURCE = 'https://signalr.azure.com';
const SIGNALR_SCOPE = `${SIGNALR_RESOURCE}/.default`;
// The managed-identity forms name the resource, with or without the slash.
const SIGNALR_RESOURCES = [SIGNALR_RESOURCE, `${SIGNALR_RESOURCE}/`];
const APP_SERVER_ROLE = 'SignalR App Server';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const APP_SERVICE_API_VERSION = '2019-08-01';
const MAX_FORM_BYTES = 64 * 1024;
const FLOWS = ['imds', 'appService', 'clientSecret', 'clientAssertion'];
// The upstream token is reused until this long before it expires, as the
// service does with its managed identity's token.
const UPSTREAM_TOKEN_MARGIN_S = 300;

const IMDS_PATH = '/metadata/identity/oauth2/token';
const APP_SERVICE_PATH = '/msi/token';
const V2_TOKEN_PATH = /^\/([^/]+)\/oauth2\/v2\.0\/token$/;
const JWKS_PATH = /^\/([^/]+)\/discovery\/v2\.0\/keys$/;

// A stable object id for a client id, so that --role-holders and tests can
// name it without asking: a GUID made of the SHA-256 of the client id.
function objectIdOf(clientId) {
  const h = crypto.createHash('sha256').update(`oid:${clientId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// Compares a secret in constant time whatever the lengths (the hashes
// always have the same length).
function sameSecret(given, expected) {
  if (typeof given !== 'string' || typeof expected !== 'string') return false;
  const digest = (s) => crypto.createHash('sha256').update(s, 'utf8').digest();
  return crypto.timingSafeEqual(digest(given), digest(expected));
}

// The Azure role assignment "SignalR App Server" on the service: who holds
// it. 'all' grants every identity the stand-ins know; 'none' nobody; else a
// list of client ids and object ids.
class RoleAssignments {
  constructor(holders = 'all') {
    const word = typeof holders === 'string' ? holders.trim().toLowerCase() : undefined;
    if (word === 'all' || word === 'none') {
      this.mode = word;
      this.ids = new Set();
    } else {
      const list = Array.isArray(holders) ? holders : String(holders).split(',');
      this.mode = 'list';
      this.ids = new Set(list.map((id) => id.trim().toLowerCase()).filter((id) => id !== ''));
      if (this.ids.size === 0) throw new Error('--role-holders: give all, none or a list of client or object ids');
    }
  }

  holds(identity) {
    if (!identity || this.mode === 'none') return false;
    if (this.mode === 'all') return true;
    return this.ids.has(identity.clientId.toLowerCase()) || this.ids.has(identity.objectId.toLowerCase());
  }

  describe() {
    return this.mode === 'list' ? [...this.ids] : this.mode;
  }
}

// The identities, the token endpoints and the signing key.
class TokenService {
  // options: tenant, clientId + clientSecret and/or federatedToken (the app
  // registration), identityClientId (the managed identity), identityHeader
  // (App Service form secret; that form is off without it), roles (a
  // RoleAssignments), tokenLifetime (seconds), eventLog, log.
  constructor({ tenant, clientId, clientSecret, federatedToken, identityClientId, identityHeader, roles, tokenLifetime, eventLog, log }) {
    this.tenant = tenant;
    this.clientSecret = clientSecret;
    this.federatedToken = federatedToken;
    this.identityHeader = identityHeader;
    this.roles = roles;
    this.tokenLifetime = tokenLifetime;
    this.eventLog = eventLog;
    this.log = log;
    this.issuers = {
      v2: `https://login.microsoftonline.com/${tenant}/v2.0`,
      sts: `https://sts.windows.net/${tenant}/`,
    };
    this.managedIdentity = { kind: 'managed identity', clientId: identityClientId, objectId: objectIdOf(identityClientId) };
    this.app = clientId ? { kind: 'app registration', clientId, objectId: objectIdOf(clientId) } : null;

    // RSA-2048, as Entra's signing keys; kid is the RFC 7638 thumbprint.
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    const { n, e } = publicKey.export({ format: 'jwk' });
    const kid = crypto.createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
    this.kid = kid;
    this.jwk = { kty: 'RSA', use: 'sig', kid, n, e, issuer: this.issuers.v2 };
    this.publicKeys = new Map([[kid, publicKey]]);

    this.upstreamCache = new Map(); // audience -> { token, exp }
    this.resetCounters();
  }

  resetCounters() {
    this.requests = Object.fromEntries(FLOWS.map((f) => [f, 0]));
    this.issued = Object.fromEntries([...FLOWS, 'upstream'].map((f) => [f, 0]));
  }

  get identities() {
    return this.app ? [this.app, this.managedIdentity] : [this.managedIdentity];
  }

  // The known identity a token was issued to (appid/azp, else oid).
  identityOf(claims) {
    const clientId = claims.appid ?? claims.azp;
    return this.identities.find((i) => i.clientId === clientId || (clientId === undefined && i.objectId === claims.oid));
  }

  // Signs a token for `identity`. `issuer`: 'v2' (Entra's v2 endpoint) or
  // 'sts' (the managed-identity forms, v1 tokens). `now` in seconds.
  issue(identity, { issuer, audience = SIGNALR_RESOURCE, acr = '1', now = Date.now() / 1000 }) {
    const iat = Math.floor(now);
    const exp = iat + Math.max(1, Math.ceil(this.tokenLifetime));
    const v1 = issuer === 'sts';
    const claims = {
      aud: audience,
      iss: this.issuers[issuer],
      iat,
      nbf: iat,
      exp,
      ...(v1 ? { appid: identity.clientId, appidacr: acr, idp: this.issuers.sts } : { azp: identity.clientId, azpacr: acr }),
      idtyp: 'app',
      oid: identity.objectId,
      // Informational, as Azure role assignments are not carried in tokens:
      // the service checks the role holders when the token is used.
      ...(audience === SIGNALR_RESOURCE && this.roles.holds(identity) ? { roles: [APP_SERVER_ROLE] } : {}),
      sub: identity.objectId,
      tid: this.tenant,
      uti: crypto.randomBytes(16).toString('base64url'),
      ver: v1 ? '1.0' : '2.0',
    };
    return { token: this.sign(claims), iat, exp };
  }

  // Signs any claims with the stand-in's key (tests use it for tokens the
  // endpoints would not issue: expired, other audience, ...).
  sign(claims) {
    return jwt.signRs256(claims, { privateKey: this.privateKey, kid: this.kid });
  }

  // Checks a bearer token meant for the service; returns its claims or
  // throws a TokenError.
  verify(token, now = Date.now() / 1000) {
    return jwt.verifyRs256(token, {
      publicKeys: this.publicKeys, audiences: [SIGNALR_RESOURCE], issuers: [this.issuers.v2, this.issuers.sts], now,
    });
  }

  // The token the service's managed identity gets for upstream calls, kept
  // until shortly before it expires.
  upstreamToken(audience, now = Date.now() / 1000) {
    const cached = this.upstreamCache.get(audience);
    const margin = Math.min(UPSTREAM_TOKEN_MARGIN_S, this.tokenLifetime / 2);
    if (cached && cached.exp - margin > now) return cached.token;
    const issued = this.issue(this.managedIdentity, { issuer: 'sts', audience, acr: '2', now });
    this.issued.upstream++;
    this.upstreamCache.set(audience, issued);
    return issued.token;
  }

  // Answers the request if it is one of the token routes; resolves
  // whether it did.
  async handle(req, res, url) {
    const path = url.pathname;
    let m;
    if (path === IMDS_PATH) {
      this.imds(req, res, url);
    } else if (path === APP_SERVICE_PATH) {
      this.appService(req, res, url);
    } else if ((m = V2_TOKEN_PATH.exec(path))) {
      await this.v2Token(req, res, safeDecode(m[1]));
    } else if ((m = JWKS_PATH.exec(path))) {
      this.keys(req, res, safeDecode(m[1]));
    } else {
      return false;
    }
    return true;
  }

  record(flow, clientId, status, error) {
    this.eventLog.add('entra-token', { flow, clientId: clientId ?? null, status, ...(error ? { error } : {}) });
    this.log(`entra-token ${flow} client=${clientId ?? '-'} -> ${status}${error ? ` ${error}` : ''}`);
  }

  // The managed identity a managed-identity request names (client_id,
  // object_id/principal_id), or the default one; undefined if unknown.
  requestedIdentity(query, idNames) {
    const mi = this.managedIdentity;
    for (const name of idNames) {
      const value = query.get(name);
      if (value === null) continue;
      const own = name === 'client_id' ? mi.clientId : mi.objectId;
      return value.toLowerCase() === own.toLowerCase() ? mi : undefined;
    }
    return query.has('mi_res_id') || query.has('msi_res_id') ? undefined : mi;
  }

  // IMDS: GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=…
  imds(req, res, url) {
    this.requests.imds++;
    const q = url.searchParams;
    const clientId = q.get('client_id') ?? undefined;
    const fail = (status, error, description, headers) => {
      this.record('imds', clientId, status, description);
      sendJson(res, status, { error, error_description: description }, headers);
    };
    if (req.method !== 'GET') return fail(405, 'invalid_request', 'Only GET is supported.', { Allow: 'GET' });
    // IMDS refuses anything that looks proxied, so that a web app cannot be
    // made to fetch tokens for its callers.
    if (req.headers['x-forwarded-for'] !== undefined) {
      return fail(400, 'invalid_request', 'Requests with an X-Forwarded-For header are refused.');
    }
    if (String(req.headers.metadata).toLowerCase() !== 'true') {
      return fail(400, 'invalid_request', 'Required metadata header not specified');
    }
    if (!q.get('api-version')) return fail(400, 'invalid_request', "Required query variable 'api-version' is missing");
    const resource = q.get('resource');
    if (!resource) return fail(400, 'invalid_request', "Required query variable 'resource' is missing");
    const identity = this.requestedIdentity(q, ['client_id', 'object_id']);
    if (!identity) return fail(400, 'invalid_request', 'Identity not found');
    if (!SIGNALR_RESOURCES.includes(resource)) return fail(400, 'invalid_resource', resourceNotFound(resource, this.tenant));

    const { token, iat, exp } = this.issue(identity, { issuer: 'sts', acr: '2' });
    this.issued.imds++;
    this.record('imds', identity.clientId, 200);
    const expiresIn = String(expiresInOf(iat, exp));
    sendJson(res, 200, {
      access_token: token,
      client_id: identity.clientId,
      expires_in: expiresIn,
      expires_on: String(exp),
      ext_expires_in: expiresIn,
      not_before: String(iat),
      resource,
      token_type: 'Bearer',
    });
  }

  // App Service, Functions, Container Apps: GET IDENTITY_ENDPOINT
  // ?api-version=2019-08-01&resource=… with X-IDENTITY-HEADER.
  appService(req, res, url) {
    if (this.identityHeader === undefined) {
      return sendText(res, 404, 'The App Service identity endpoint is off: start the emulator with --identity-header.');
    }
    this.requests.appService++;
    const q = url.searchParams;
    const clientId = q.get('client_id') ?? undefined;
    const fail = (status, message, headers) => {
      this.record('appService', clientId, status, message);
      sendJson(res, status, { statusCode: status, message, correlationId: crypto.randomUUID() }, headers);
    };
    if (req.method !== 'GET') return fail(405, 'Only GET is supported.', { Allow: 'GET' });
    const secret = req.headers['x-identity-header'];
    if (secret === undefined) return fail(400, 'The X-IDENTITY-HEADER header is missing.');
    if (!sameSecret(secret, this.identityHeader)) return fail(401, 'The X-IDENTITY-HEADER header is not valid.');
    if (q.get('api-version') !== APP_SERVICE_API_VERSION) {
      return fail(400, `api-version must be ${APP_SERVICE_API_VERSION}.`);
    }
    const resource = q.get('resource');
    if (!resource) return fail(400, "The 'resource' query parameter is missing.");
    const identity = this.requestedIdentity(q, ['client_id', 'principal_id', 'object_id']);
    if (!identity) return fail(400, 'Unable to load the proper Managed Identity.');
    if (!SIGNALR_RESOURCES.includes(resource)) return fail(400, resourceNotFound(resource, this.tenant));

    const { token, exp } = this.issue(identity, { issuer: 'sts', acr: '2' });
    this.issued.appService++;
    this.record('appService', identity.clientId, 200);
    sendJson(res, 200, { access_token: token, expires_on: exp, resource, token_type: 'Bearer', client_id: identity.clientId });
  }

  // Entra v2: POST /{tenant}/oauth2/v2.0/token, client credentials with a
  // secret or a federated assertion.
  async v2Token(req, res, tenant) {
    const body = await readBody(req, MAX_FORM_BYTES);
    const isForm = /^application\/x-www-form-urlencoded\s*(;|$)/i.test(req.headers['content-type'] || '');
    const form = new URLSearchParams(body !== null && isForm ? body.toString('utf8') : '');
    const flow = form.has('client_assertion') || form.has('client_assertion_type') ? 'clientAssertion' : 'clientSecret';
    this.requests[flow]++;
    const clientId = form.get('client_id') ?? undefined;
    const fail = (status, error, code, description) => {
      this.record(flow, clientId, status, `${error} AADSTS${code}`);
      sendJson(res, status, entraError(error, code, description));
    };
    const missing = (name) => fail(400, 'invalid_request', 900144, `The request body must contain the following parameter: '${name}'.`);

    if (req.method !== 'POST') {
      return fail(400, 'invalid_request', 900561, `The endpoint only accepts POST, OPTIONS requests. Received a ${req.method} request.`);
    }
    if (body === null) return fail(400, 'invalid_request', 900144, 'The request body is too large.');
    if (tenant.toLowerCase() !== this.tenant.toLowerCase()) return fail(400, 'invalid_request', 90002, tenantNotFound(tenant));
    const grantType = form.get('grant_type');
    if (!grantType) return missing('grant_type');
    if (grantType !== 'client_credentials') {
      return fail(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${grantType}'.`);
    }
    if (!clientId) return missing('client_id');
    if (!this.app || clientId.toLowerCase() !== this.app.clientId.toLowerCase()) {
      return fail(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the ` +
        `directory '${this.tenant}'. This can happen if the application has not been installed by the administrator ` +
        'of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.');
    }
    const scope = form.get('scope');
    if (!scope) return missing('scope');
    if (scope !== SIGNALR_SCOPE) {
      return scope.endsWith('/.default')
        ? fail(400, 'invalid_scope', 70011, `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`)
        : fail(400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows ` +
          'must have a scope value with /.default suffixed to the resource identifier (application ID URI).');
    }
    if (flow === 'clientAssertion') {
      const type = form.get('client_assertion_type');
      if (!type) return missing('client_assertion_type');
      if (type !== ASSERTION_TYPE) {
        return fail(400, 'invalid_request', 90014, `The client_assertion_type '${type}' is not supported; use ${ASSERTION_TYPE}.`);
      }
      const assertion = form.get('client_assertion');
      if (!assertion) return missing('client_assertion');
      if (!sameSecret(assertion, this.federatedToken)) {
        return fail(401, 'invalid_client', 700213, `No matching federated identity record found for presented assertion ` +
          `subject '${assertionSubject(assertion)}'. Please check your federated identity credential Subject, Audience and Issuer ` +
          'against the presented assertion.');
      }
    } else {
      const secret = form.get('client_secret');
      if (secret === null) {
        return fail(401, 'invalid_client', 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
      }
      if (!sameSecret(secret, this.clientSecret)) {
        return fail(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the ' +
          `request is the client secret value, not the client secret ID, for a secret added to app '${this.app.clientId}'.`);
      }
    }

    const { token, iat, exp } = this.issue(this.app, { issuer: 'v2', acr: flow === 'clientAssertion' ? '2' : '1' });
    this.issued[flow]++;
    this.record(flow, this.app.clientId, 200);
    const expiresIn = expiresInOf(iat, exp);
    sendJson(res, 200, { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token });
  }

  // GET /{tenant}/discovery/v2.0/keys
  keys(req, res, tenant) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Only GET is supported.', { Allow: 'GET, HEAD' });
    if (tenant.toLowerCase() !== this.tenant.toLowerCase()) {
      return sendJson(res, 400, entraError('invalid_tenant', 90002, tenantNotFound(tenant)));
    }
    return sendJson(res, 200, { keys: [this.jwk] });
  }

  state() {
    return {
      tenant: this.tenant,
      issuers: this.issuers,
      signingKeyId: this.kid,
      identities: this.identities.map((i) => ({ ...i, roleHolder: this.roles.holds(i) })),
      roleHolders: this.roles.describe(),
      tokenLifetime: this.tokenLifetime,
      tokenRequests: { ...this.requests },
      tokensIssued: { ...this.issued },
    };
  }
}

// Entra answers one second short of the token's lifetime.
function expiresInOf(iat, exp) {
  return Math.max(0, exp - iat - 1);
}

function entraError(error, code, description) {
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const traceId = crypto.randomUUID();
  const correlationId = crypto.randomUUID();
  return {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}

function tenantNotFound(tenant) {
  return `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`;
}

function resourceNotFound(resource, tenant) {
  return `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${tenant}.`;
}

// The sub of a JWT assertion, for the error message; never the assertion.
function assertionSubject(assertion) {
  try {
    const sub = JSON.parse(Buffer.from(assertion.split('.')[1], 'base64url').toString('utf8')).sub;
    return typeof sub === 'string' ? sub : '';
  } catch {
    return '';
  }
}

function safeDecode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

module.exports = { TokenService, RoleAssignments, objectIdOf, SIGNALR_RESOURCE, SIGNALR_SCOPE, APP_SERVER_ROLE };
