'use strict';
// The data-plane REST API (docs/swagger/V20220601.json of
// Azure/azure-signalr): API version 2022-06-01 under /api/hubs/{hub} and
// the legacy v1 routes under /api/v1/hubs/{hub}.

const jwt = require('./jwt');
const { MessageType } = require('./protocol');
const { HUB_NAME } = require('./hubs');
const { send, sendJson, readBody } = require('./httputil');

const MAX_BODY_BYTES = 1024 * 1024;
const GROUP_NAME = /^(?!\s+$)[^\n]+$/;    // swagger ^(?!\s+$).+$ with .NET's "."
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
// Query parameters that are not part of the SDK's token audience.
const NOT_IN_AUDIENCE = ['excluded', 'ttl', 'reason'];

// ---- operations --------------------------------------------------------
// Each gets { hub, params, query, payload } and returns nothing (success,
// with the route's status) or an error { status, code, message }.

const notExisting = {
  connection: { status: 404, code: 'Warning.Connection.NotExisted', message: 'The connection does not exist.' },
  connectionForGroup: { status: 404, code: 'Error.Connection.NotExisted', message: 'The connection does not exist.' },
  user: { status: 404, code: 'Warning.User.NotExisted', message: 'The user has no connection.' },
  group: { status: 404, code: 'Warning.Group.NotExisted', message: 'The group has no connection.' },
  userInGroup: { status: 404, code: 'Info.User.NotInGroup', message: 'The user is not in the group.' },
};

function deliver(connections, payload, excluded = []) {
  const message = { type: MessageType.Invocation, target: payload.target, arguments: payload.arguments };
  for (const conn of connections) {
    if (!excluded.includes(conn.id)) conn.send(message);
  }
}

function closeAll(connections, reason, excluded = []) {
  for (const conn of connections) {
    if (!excluded.includes(conn.id)) conn.close(reason);
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
    if (!conn) return notExisting.connectionForGroup;
    hub.join(conn, params.group);
    return undefined;
  },
  removeConnectionFromGroup: ({ hub, params }) => {
    const conn = hub.connections.get(params.connectionId);
    if (!conn) return notExisting.connectionForGroup;
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
    conn.close(query.get('reason') ?? undefined);
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
};

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
].map(([methods, path, op, status, hasBody = false]) =>
  ({ methods, segments: path.split('/').slice(1), op, status, hasBody, v1: path.startsWith(V1) }));

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
    const result = await this.process(req, rawPath, rawQuery, url.searchParams, entry);
    entry.status = result.status;
    if (result.error) entry.error = result.error.message ?? result.error;
    this.emulator.log(`${req.method} ${req.url} -> ${result.status}${entry.error ? ` ${entry.error}` : ''}`);

    const headers = result.headers || {};
    if (result.error && typeof result.error === 'object') {
      const { code, message, target } = result.error;
      sendJson(res, result.status, { code, message, ...(target ? { target } : {}) },
        { ...headers, 'x-ms-error-code': code });
    } else {
      send(res, result.status, result.error, result.error ? { ...headers, 'Content-Type': 'text/plain; charset=utf-8' } : headers);
    }
  }

  // Returns { status, error?, headers? }; error is a text or an ErrorDetail.
  async process(req, rawPath, rawQuery, query, entry) {
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
    const error = ops[route.op]({ hub: this.emulator.hubs.get(hubName), params, query, payload });
    return error ? { status: error.status, error } : { status: route.status };
  }

  // Returns undefined when the bearer token is valid for this request, else
  // a refusal { status, error }. With the Entra stand-ins, an RS256 token is
  // a Microsoft Entra token (audience https://signalr.azure.com) and needs
  // the role; other tokens are HS256 with these audiences (the port is
  // never part of them): the SDK's, base + path + "?" + query without
  // excluded/ttl/reason, and the documented one, base + path.
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
