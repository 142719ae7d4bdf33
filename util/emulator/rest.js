'use strict';
// The data-plane REST API (docs/swagger/V20220601.json and v20241201.json
// of Azure/azure-signalr): the api-version routes under /api/hubs/{hub},
// among them the 2024-12-01 client invocation (:invoke) and group member
// list, and the legacy v1 routes under /api/v1/hubs/{hub}.

const jwt = require('./jwt');
const { MessageType } = require('./protocol');
const { HUB_NAME } = require('./hubs');
const { send, sendJson, readBody } = require('./httputil');

const MAX_BODY_BYTES = 1024 * 1024;
const GROUP_NAME = /^(?!\s+$)[^\n]+$/;    // swagger ^(?!\s+$).+$ with .NET's "."
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
// Routes first published in v20241201.json (V20230701.json has neither).
const V2024 = '2024-12-01';
// GroupMemberPagedValues paging (v20241201.json, ListConnectionsInGroup):
// maxpagesize 1..200 (default 200), top 1..2^31-1.
const MAX_PAGE_SIZE = 200;
const INT32_MAX = 0x7fffffff;
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
// Query parameters that are not part of the SDK's token audience: the SDK
// signs the URL with application and api-version only and adds the rest
// (its RestApiEndpoint.Query) afterwards (RestApiProvider.cs of
// Azure/azure-signalr), so the list route's paging parameters are not in
// it either.
const NOT_IN_AUDIENCE = ['excluded', 'ttl', 'reason', 'maxpagesize', 'top', 'continuationToken'];

// ---- operations --------------------------------------------------------
// Each gets { hub, params, query, payload } and returns nothing (success,
// with the route's status) or an error { status, code, message }.

const notExisting = {
  connection: { status: 404, code: 'Warning.Connection.NotExisted', message: 'The connection does not exist.' },
  connectionRequired: { status: 404, code: 'Error.Connection.NotExisted', message: 'The connection does not exist.' },
  user: { status: 404, code: 'Warning.User.NotExisted', message: 'The user has no connection.' },
  group: { status: 404, code: 'Warning.Group.NotExisted', message: 'The group has no connection.' },
  userInGroup: { status: 404, code: 'Info.User.NotInGroup', message: 'The user is not in the group.' },
};

// The answers of :invoke that the spec leaves to "default: ErrorDetail";
// the Invocation codes are this emulator's (docs/emulator.md).
const invocationFailed = {
  timeout: (ms) => ({
    status: 504, code: 'Error.Invocation.Timeout', message: `The client did not complete the invocation within ${ms / 1000} s.`,
  }),
  disconnected: () => ({
    status: 500, code: 'Error.Invocation.Disconnected', message: 'The connection closed before the client completed the invocation.',
  }),
  error: (text) => ({ status: 500, code: 'Error.Invocation.Failed', message: text }),
};

function deliver(connections, payload, excluded = []) {
  const message = { type: MessageType.Invocation, target: payload.target, arguments: payload.arguments };
  for (const conn of connections) {
    if (!excluded.includes(conn.id)) conn.send(message);
  }
}

// The reason of a REST close reaches only a client whose token allows
// detailed errors: the claim asrs.s.derror ("True", as the SDK writes it
// for NegotiationOptions.EnableDetailedErrors). ClientManager.cs of
// Azure/azure-signalr: "To get the reason from connection closed event,
// client should set NegotiationOptions.EnableDetailedErrors during
// negotiation." Without it the Close message has no error.
function closeWithReason(conn, reason) {
  const detailed = conn.claims['asrs.s.derror'];
  conn.close(detailed === true || /^true$/i.test(String(detailed)) ? reason : undefined);
}

function closeAll(connections, reason, excluded = []) {
  for (const conn of connections) {
    if (!excluded.includes(conn.id)) closeWithReason(conn, reason);
  }
}

const ops = {
  broadcast: ({ hub, query, payload }) => deliver(hub.connections.values(), payload, query.getAll('excluded')),
  sendToUser: ({ hub, params, payload }) => deliver(hub.userConnections(params.user), payload),
  sendToGroup: ({ hub, params, query, payload }) =>
    deliver(hub.groupConnections(params.group), payload, query.getAll('excluded')),
  sendToConnection: ({ hub, params, payload }) => deliver(optional(hub.connections.get(params.connectionId)), payload),

  addConnectionToGroup: ({ hub, params }) => {
    const conn = hub.connections.get(params.connectionId);
    if (!conn) return notExisting.connectionRequired;
    hub.join(conn, params.group);
    return undefined;
  },
  removeConnectionFromGroup: ({ hub, params }) => {
    const conn = hub.connections.get(params.connectionId);
    if (!conn) return notExisting.connectionRequired;
    hub.leave(conn, params.group);
    return undefined;
  },
  removeConnectionFromAllGroups: ({ hub, params }) => {
    const conn = hub.connections.get(params.connectionId);
    if (conn) for (const group of [...conn.groups]) hub.leave(conn, group);
  },

  addUserToGroup: ({ hub, params, query }) => {
    const ttl = query.get('ttl');
    if (ttl !== null && !(/^\d{1,10}$/.test(ttl) && Number(ttl) <= 0x7fffffff)) {
      return invalid('ttl', `ttl must be an integer from 0 to ${0x7fffffff}`);
    }
    hub.addUserToGroup(params.user, params.group, ttl === null ? undefined : Number(ttl));
    return undefined;
  },
  removeUserFromGroup: ({ hub, params }) => hub.removeUserFromGroup(params.user, params.group),
  removeUserFromAllGroups: ({ hub, params }) => hub.removeUserFromAllGroups(params.user),

  connectionExists: ({ hub, params }) => (hub.connections.has(params.connectionId) ? undefined : notExisting.connection),
  userExists: ({ hub, params }) => (hub.userConnections(params.user).length > 0 ? undefined : notExisting.user),
  groupExists: ({ hub, params }) => (hub.groups.has(params.group) ? undefined : notExisting.group),
  userInGroup: ({ hub, params }) => (hub.isUserInGroup(params.user, params.group) ? undefined : notExisting.userInGroup),

  closeConnection: ({ hub, params, query }) => {
    const conn = hub.connections.get(params.connectionId);
    if (!conn) return notExisting.connection;
    closeWithReason(conn, query.get('reason') ?? undefined);
    return undefined;
  },
  // v1 answers 202 whether or not the connection exists.
  closeConnectionIfAny: ({ hub, params, query }) =>
    closeAll(optional(hub.connections.get(params.connectionId)), query.get('reason') ?? undefined),
  closeHubConnections: ({ hub, query }) =>
    closeAll(hub.connections.values(), query.get('reason') ?? undefined, query.getAll('excluded')),
  closeGroupConnections: ({ hub, params, query }) =>
    closeAll(hub.groupConnections(params.group), query.get('reason') ?? undefined, query.getAll('excluded')),
  closeUserConnections: ({ hub, params, query }) =>
    closeAll(hub.userConnections(params.user), query.get('reason') ?? undefined, query.getAll('excluded')),

  // Relays an Invocation with an id to the connection and answers with its
  // Completion: 200 {"result": ...} ({} for a void completion).
  invoke: async ({ hub, params, payload, emulator, signal, entry }) => {
    const conn = hub.connections.get(params.connectionId);
    if (!conn) return notExisting.connectionRequired;
    const timeoutMs = emulator.invokeTimeoutMs;
    const outcome = await conn.invoke(payload.target, payload.arguments, { timeoutMs, signal });
    entry.invocationId = outcome.invocationId;
    if (outcome.failure === 'aborted') return { aborted: true };
    if (outcome.failure === 'timeout') return invocationFailed.timeout(timeoutMs);
    if (outcome.failure === 'disconnected') return invocationFailed.disconnected();
    if (outcome.error !== undefined) return invocationFailed.error(outcome.error);
    return { json: 'result' in outcome ? { result: jsonValue(outcome.result) } : {} };
  },

  // One page of the group's connections, ordered by connection id; the
  // continuation token carries the last id and how many came before.
  listConnections: ({ hub, params, query, req, emulator }) => {
    const paging = pagingParameters(query);
    if (paging.error) return paging.error;
    const { maxPageSize, top, after, returned } = paging;
    const members = hub.groupConnections(params.group)
      .filter((c) => after === undefined || c.id > after)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    const page = members.slice(0, Math.min(maxPageSize, top === undefined ? Infinity : top - returned));
    const json = {
      value: page.map((c) => ({ connectionId: c.id, ...(c.userId === undefined ? {} : { userId: c.userId }) })),
    };
    if (members.length > page.length && (top === undefined || returned + page.length < top)) {
      const host = req.headers.host ?? `127.0.0.1:${emulator.port}`;
      json.nextLink = nextLink(host, req, query, paging, encodeToken(page[page.length - 1].id, returned + page.length));
    }
    return { json };
  },
};

// A result as JSON carries it: MessagePack binary becomes base64, as the
// JSON hub protocol writes a byte array. (The replacer looks at the value
// before toJSON, which would turn a Buffer into {type, data}.)
function jsonValue(value) {
  return JSON.parse(JSON.stringify({ value }, function replace(key, v) {
    const raw = this[key];
    return raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : v;
  })).value;
}

function integerParameter(query, name, max) {
  const text = query.get(name);
  if (text === null) return { value: undefined };
  if (!/^\d{1,10}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    return { error: invalid(name, `${name} must be an integer from 1 to ${max}.`) };
  }
  return { value: Number(text) };
}

// Reads maxpagesize, top and continuationToken; returns the values or { error }.
function pagingParameters(query) {
  const size = integerParameter(query, 'maxpagesize', MAX_PAGE_SIZE);
  if (size.error) return size;
  const top = integerParameter(query, 'top', INT32_MAX);
  if (top.error) return top;
  const token = query.get('continuationToken');
  let after;
  let returned = 0;
  if (token !== null) {
    const decoded = decodeToken(token);
    if (!decoded || (top.value !== undefined && decoded.returned >= top.value)) {
      return { error: invalid('continuationToken', 'Invalid continuationToken.') };
    }
    ({ after, returned } = decoded);
  }
  return { maxPageSize: size.value ?? MAX_PAGE_SIZE, top: top.value, after, returned };
}

// The continuation token: base64url of "<count returned so far>:<last id>".
function encodeToken(lastId, returned) {
  return Buffer.from(`${returned}:${lastId}`, 'utf8').toString('base64url');
}

function decodeToken(token) {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return null;
  const m = /^(\d{1,10}):(.+)$/s.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!m || encodeToken(m[2], Number(m[1])) !== token) return null;
  return { returned: Number(m[1]), after: m[2] };
}

// The absolute URL of the next page: the request's own scheme, host and
// path; application, top, maxpagesize, continuationToken and api-version
// (the order of the example HubProxyV20241201_ListConnectionsInGroup.json).
function nextLink(host, req, query, { maxPageSize, top }, token) {
  const [path] = splitOnce(req.url, '?');
  const next = new URLSearchParams();
  if (query.get('application') !== null) next.set('application', query.get('application'));
  if (top !== undefined) next.set('top', String(top));
  next.set('maxpagesize', String(maxPageSize));
  next.set('continuationToken', token);
  next.set('api-version', query.get('api-version'));
  return `http://${host}${path}?${next}`;
}

function optional(conn) {
  return conn ? [conn] : [];
}

function invalid(target, message) {
  return { status: 400, code: 'Error.Request.Invalid', message, target };
}

// ---- routes ---------------------------------------------------------------
// [methods, path, operation, success status, has a message body]

const EXISTS = ['HEAD', 'GET'];
const H = '/api/hubs/{hub}';
const V1 = '/api/v1/hubs/{hub}';

const ROUTES = [
  [['POST'], `${H}/connections/{connectionId}/:invoke`, 'invoke', 200, true, V2024],
  [['GET'], `${H}/groups/{group}/connections`, 'listConnections', 200, false, V2024],
  [['POST'], `${H}/:send`, 'broadcast', 202, true],
  [['POST'], `${H}/users/{user}/:send`, 'sendToUser', 202, true],
  [['POST'], `${H}/groups/{group}/:send`, 'sendToGroup', 202, true],
  [['POST'], `${H}/connections/{connectionId}/:send`, 'sendToConnection', 202, true],
  [['PUT'], `${H}/groups/{group}/connections/{connectionId}`, 'addConnectionToGroup', 200],
  [['DELETE'], `${H}/groups/{group}/connections/{connectionId}`, 'removeConnectionFromGroup', 200],
  [['DELETE'], `${H}/connections/{connectionId}/groups`, 'removeConnectionFromAllGroups', 200],
  [['PUT'], `${H}/users/{user}/groups/{group}`, 'addUserToGroup', 200],
  [['DELETE'], `${H}/users/{user}/groups/{group}`, 'removeUserFromGroup', 204],
  [['DELETE'], `${H}/users/{user}/groups`, 'removeUserFromAllGroups', 204],
  [EXISTS, `${H}/users/{user}/groups/{group}`, 'userInGroup', 200],
  [EXISTS, `${H}/connections/{connectionId}`, 'connectionExists', 200],
  [EXISTS, `${H}/users/{user}`, 'userExists', 200],
  [EXISTS, `${H}/groups/{group}`, 'groupExists', 200],
  [['DELETE'], `${H}/connections/{connectionId}`, 'closeConnection', 200],
  [['POST'], `${H}/:closeConnections`, 'closeHubConnections', 204],
  [['POST'], `${H}/groups/{group}/:closeConnections`, 'closeGroupConnections', 204],
  [['POST'], `${H}/users/{user}/:closeConnections`, 'closeUserConnections', 204],

  [['POST'], V1, 'broadcast', 202, true],
  [['POST'], `${V1}/users/{user}`, 'sendToUser', 202, true],
  [['POST'], `${V1}/groups/{group}`, 'sendToGroup', 202, true],
  [['POST'], `${V1}/connections/{connectionId}`, 'sendToConnection', 202, true],
  [EXISTS, `${V1}/connections/{connectionId}`, 'connectionExists', 200],
  [EXISTS, `${V1}/groups/{group}`, 'groupExists', 200],
  [EXISTS, `${V1}/users/{user}`, 'userExists', 200],
  [EXISTS, `${V1}/groups/{group}/users/{user}`, 'userInGroup', 200],
  [['DELETE'], `${V1}/connections/{connectionId}`, 'closeConnectionIfAny', 202],
  [['PUT'], `${V1}/groups/{group}/connections/{connectionId}`, 'addConnectionToGroup', 200],
  [['DELETE'], `${V1}/groups/{group}/connections/{connectionId}`, 'removeConnectionFromGroup', 200],
  [['PUT'], `${V1}/groups/{group}/users/{user}`, 'addUserToGroup', 202],
  [['DELETE'], `${V1}/groups/{group}/users/{user}`, 'removeUserFromGroup', 202],
  [['DELETE'], `${V1}/users/{user}/groups`, 'removeUserFromAllGroups', 200],
].map(([methods, path, op, status, hasBody = false, since]) =>
  ({ methods, segments: path.split('/').slice(1), op, status, hasBody, since, v1: path.startsWith(V1) }));

const HEALTH = ['/api/health', '/api/v1/health'];

// Finds the routes for the path's shape; returns { route, params } for the
// method, { allowed } when only other methods match, or null.
function match(method, segments) {
  const allowed = [];
  for (const route of ROUTES) {
    if (route.segments.length !== segments.length) continue;
    const params = {};
    const fits = route.segments.every((s, i) => {
      if (s.startsWith('{')) {
        params[s.slice(1, -1)] = segments[i];
        return segments[i] !== '';
      }
      return s.toLowerCase() === segments[i].toLowerCase();
    });
    if (!fits) continue;
    if (route.methods.includes(method)) return { route, params };
    allowed.push(...route.methods);
  }
  return allowed.length > 0 ? { allowed } : null;
}

class RestApi {
  constructor(emulator) {
    this.emulator = emulator;
  }

  async handle(req, res, url) {
    const [rawPath, rawQuery = ''] = splitOnce(req.url, '?');
    const entry = this.emulator.eventLog.add('rest', {
      method: req.method, path: rawPath, query: rawQuery, headers: req.headers,
    });
    // Set when the caller goes away before the answer (a waiting :invoke).
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const result = await this.process(req, rawPath, rawQuery, url.searchParams, entry, gone.signal);
    if (result.aborted) {
      entry.status = 'aborted';
      this.emulator.log(`${req.method} ${req.url} -> the caller went away`);
      return;
    }
    entry.status = result.status;
    if (result.error) entry.error = result.error.message ?? result.error;
    this.emulator.log(`${req.method} ${req.url} -> ${result.status}${entry.error ? ` ${entry.error}` : ''}`);

    const headers = result.headers || {};
    if (result.error && typeof result.error === 'object') {
      const { code, message, target } = result.error;
      sendJson(res, result.status, { code, message, ...(target ? { target } : {}) },
        { ...headers, 'x-ms-error-code': code });
    } else if (result.json !== undefined) {
      sendJson(res, result.status, result.json, headers);
    } else {
      send(res, result.status, result.error, result.error ? { ...headers, 'Content-Type': 'text/plain; charset=utf-8' } : headers);
    }
  }

  // Returns { status, error?, json?, headers? } (error is a text or an
  // ErrorDetail, json a success body), or { aborted } when the caller went.
  async process(req, rawPath, rawQuery, query, entry, signal) {
    if (HEALTH.includes(rawPath)) {
      return EXISTS.includes(req.method) ? { status: 200 } : { status: 405, headers: { Allow: 'HEAD, GET' } };
    }
    let segments;
    try {
      segments = rawPath.split('/').slice(1).map(decodeURIComponent);
    } catch {
      return { status: 400, error: invalid('path', 'Malformed percent-encoding in the path.') };
    }
    const found = match(req.method, segments);
    if (!found) return { status: 404, error: 'No such route.' };
    if (found.allowed) return { status: 405, headers: { Allow: [...new Set(found.allowed)].join(', ') } };
    const { route, params } = found;

    const refusal = this.authenticate(req, rawPath, rawQuery);
    if (refusal) {
      return refusal.status === 401
        ? { status: 401, error: `Unauthorized: ${refusal.error}`, headers: { 'WWW-Authenticate': 'Bearer' } }
        : { status: refusal.status, error: `Forbidden: ${refusal.error}` };
    }

    const paramError = validate(route, params, query);
    if (paramError) return { status: 400, error: paramError };
    const application = query.get('application');
    const hubName = (application ? `${application}_${params.hub}` : params.hub).toLowerCase();

    let payload;
    if (route.hasBody) {
      const parsed = await readPayload(req, entry);
      if (parsed.status) return parsed;
      payload = parsed.payload;
    }
    const outcome = await ops[route.op]({
      hub: this.emulator.hubs.get(hubName), params, query, payload, req, emulator: this.emulator, signal, entry,
    });
    if (outcome === undefined) return { status: route.status };
    if (outcome.aborted) return outcome;
    if (outcome.json !== undefined) return { status: route.status, json: outcome.json };
    return { status: outcome.status, error: outcome };
  }

  // Returns undefined when the bearer token is valid for this request, else
  // a refusal { status, error }. With the Entra stand-ins, an RS256 token is
  // a Microsoft Entra token (audience https://signalr.azure.com) and needs
  // the role; other tokens are HS256 with these audiences (the port is
  // never part of them): the SDK's, base + path + "?" + query without
  // NOT_IN_AUDIENCE, and the documented one, base + path.
  authenticate(req, rawPath, rawQuery) {
    const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization || '');
    if (!auth) return { status: 401, error: 'no bearer token' };
    const { exchange } = this.emulator;
    if (exchange && algorithm(auth[1]) === 'RS256') {
      const result = exchange.authorizeBearer(req);
      return result.status ? result : undefined;
    }
    const base = this.emulator.audienceBase.replace(/\/$/, '') + rawPath;
    const kept = rawQuery.split('&').filter((p) => {
      const name = safeDecode(splitOnce(p, '=')[0]);
      return p !== '' && !NOT_IN_AUDIENCE.includes(name);
    }).join('&');
    const audiences = kept ? [`${base}?${kept}`, base] : [base];
    try {
      jwt.verify(auth[1], { keys: this.emulator.tokenKeys, audiences });
      return undefined;
    } catch (e) {
      if (!(e instanceof jwt.TokenError)) throw e;
      return { status: 401, error: e.message };
    }
  }
}

function algorithm(token) {
  try {
    return jwt.header(token).alg;
  } catch {
    return undefined;
  }
}

function validate(route, params, query) {
  if (!HUB_NAME.test(params.hub)) return invalid('hub', `Invalid hub name ${JSON.stringify(params.hub)}.`);
  const application = query.get('application');
  if (application !== null && !HUB_NAME.test(application)) {
    return invalid('application', `Invalid application name ${JSON.stringify(application)}.`);
  }
  if (params.group !== undefined && !(params.group.length <= 1024 && GROUP_NAME.test(params.group))) {
    return invalid('group', `Invalid group name ${JSON.stringify(params.group)}.`);
  }
  if (params.user !== undefined && params.user.length > 1024) return invalid('user', 'User id longer than 1024.');
  if (!route.v1) {
    const version = query.get('api-version');
    if (version === null || !API_VERSION.test(version)) return invalid('api-version', 'Missing or invalid api-version.');
    if (route.since && version.slice(0, 10) < route.since) {
      return invalid('api-version', `This operation needs api-version ${route.since} or later.`);
    }
  }
  return undefined;
}

// Reads a send body: {"target": ..., "arguments": [...]}, member names in
// any case. Returns { payload } or a { status, error } result.
async function readPayload(req, entry) {
  const contentType = req.headers['content-type'];
  const body = await readBody(req, MAX_BODY_BYTES);
  if (body === null) return { status: 413, error: invalid('body', `Body larger than ${MAX_BODY_BYTES} bytes.`) };
  entry.body = body.toString('utf8');
  if (!contentType || !JSON_MEDIA_TYPE.test(contentType)) {
    return { status: 415, error: `Unsupported Content-Type ${JSON.stringify(contentType ?? null)}; send application/json.` };
  }
  let value;
  try {
    value = JSON.parse(entry.body);
  } catch (e) {
    return { status: 400, error: invalid('body', `Body is not JSON: ${e.message}`) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { status: 400, error: invalid('body', 'Body is not a JSON object.') };
  }
  const member = (name) => {
    const key = Object.keys(value).reverse().find((k) => k.toLowerCase() === name);
    return key === undefined ? undefined : value[key];
  };
  const target = member('target');
  if (typeof target !== 'string' || target === '') {
    return { status: 400, error: invalid('target', 'The target field is required.') };
  }
  const args = member('arguments') ?? [];
  if (!Array.isArray(args)) return { status: 400, error: invalid('arguments', 'arguments must be an array.') };
  return { payload: { target, arguments: args } };
}

function splitOnce(s, separator) {
  const i = s.indexOf(separator);
  return i === -1 ? [s] : [s.slice(0, i), s.slice(i + 1)];
}

function safeDecode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

module.exports = { RestApi };
