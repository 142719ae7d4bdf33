'use strict';
// The client side of the service: negotiate, the WebSocket transport and
// the hub protocol session of each client connection.

const crypto = require('node:crypto');
const { STATUS_CODES } = require('node:http');
const { WebSocketServer } = require('ws');
const { MessageType, ProtocolError, parseHandshake, handshakeResponse, protocols } = require('./protocol');
const jwt = require('./jwt');
const { HUB_NAME } = require('./hubs');
const { sendText, sendJson } = require('./httputil');

const HANDSHAKE_TIMEOUT_MS = 15 * 1000;
const NEGOTIATE_TIMEOUT_MS = 30 * 1000; // a negotiated id must be used by then
const CLEAN_CLOSE_CODES = [1000, 1001, 1005];

function randomId() {
  return crypto.randomBytes(16).toString('base64url');
}

// The bearer token of a client request: Authorization header, else the last
// access_token query parameter.
function clientToken(req, url) {
  const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization || '');
  if (auth) return auth[1];
  const fromQuery = url.searchParams.getAll('access_token');
  return fromQuery.length > 0 ? fromQuery[fromQuery.length - 1] : undefined;
}

class Connection {
  constructor({ id, hub, claims, query, protocol, ws, emulator }) {
    this.id = id;
    this.hub = hub;
    this.claims = claims;
    this.userId = jwt.userId(claims);
    this.query = query;
    this.protocol = protocol;
    this.ws = ws;
    this.emulator = emulator;
    this.groups = new Set();
    this.buffer = Buffer.alloc(0);
    this.queue = Promise.resolve(); // upstream calls, in order
    this.closing = false;
    this.refused = false;           // the app answered connected with non-2xx
    this.closeError = undefined;    // reported upstream as the disconnect error
    this.invocations = new Map();   // invocationId -> settle(outcome), REST :invoke
    this.lastInvocationId = 0;
  }

  // Sends an Invocation with an id and waits for the client's Completion.
  // Resolves { result } (absent for a void completion), { error }, or
  // { failure: 'timeout' | 'disconnected' | 'aborted' }; never rejects.
  invoke(target, args, { timeoutMs, signal }) {
    const invocationId = String(++this.lastInvocationId);
    return new Promise((resolve) => {
      const settle = (outcome) => {
        if (!this.invocations.delete(invocationId)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', aborted);
        resolve({ invocationId, ...outcome });
      };
      const aborted = () => settle({ failure: 'aborted' });
      const timer = setTimeout(() => settle({ failure: 'timeout' }), timeoutMs);
      this.invocations.set(invocationId, settle);
      signal?.addEventListener('abort', aborted);
      if (signal?.aborted) return aborted();
      this.send({ type: MessageType.Invocation, invocationId, target, arguments: args });
      return undefined;
    });
  }

  // A Completion from the client; false when no invocation waits for it.
  complete(message) {
    const settle = this.invocations.get(message.invocationId);
    if (!settle) return false;
    settle(message.error !== undefined ? { error: message.error }
      : message.result !== undefined ? { result: message.result } : {});
    return true;
  }

  // The connection is gone: every waiting invocation fails.
  abandonInvocations() {
    for (const settle of [...this.invocations.values()]) settle({ failure: 'disconnected' });
  }

  send(message, { log = true } = {}) {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(this.protocol.write(message), { binary: this.protocol.binary });
    if (log) this.emulator.eventLog.add('client.send', { connectionId: this.id, hub: this.hub, message });
  }

  // Bytes that already are a framed hub message (an upstream completion).
  sendRaw(bytes) {
    if (this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(bytes, { binary: this.protocol.binary });
    this.emulator.eventLog.add('client.send', {
      connectionId: this.id, hub: this.hub,
      raw: this.protocol.binary ? bytes.toString('base64') : bytes.toString('utf8'),
      ...(this.protocol.binary ? { rawEncoding: 'base64' } : {}),
    });
  }

  enqueue(task) {
    this.queue = this.queue.then(task).catch((e) => this.emulator.log(`connection ${this.id}: ${e.stack}`));
  }

  // Sends a Close message, then closes the WebSocket.
  close(error) {
    if (this.closing) return;
    this.closing = true;
    this.send({ type: MessageType.Close, error });
    this.ws.close(1000);
  }

  // A protocol violation: the client gets ASP.NET Core's generic error, the
  // app (disconnected event) the details.
  fail(error) {
    this.closeError = error;
    this.close('Connection closed with an error.');
  }
}

class ClientEndpoint {
  constructor(emulator) {
    this.emulator = emulator;
    this.pending = new Map(); // connection token -> { connectionId, hub, timer }
    this.wss = new WebSocketServer({ noServer: true });
  }

  audience(hub) {
    return `${this.emulator.audienceBase}client/?hub=${hub}`;
  }

  // Checks hub and token; returns { hub, claims } or answers with an error
  // through `reject(status, text)` and returns null.
  authorize(req, url, reject) {
    const hubParam = url.searchParams.get('hub');
    if (!hubParam || !HUB_NAME.test(hubParam)) {
      reject(400, `Invalid hub name ${JSON.stringify(hubParam)}`);
      return null;
    }
    const hub = hubParam.toLowerCase();
    const token = clientToken(req, url);
    if (token === undefined) {
      reject(401, 'No access token');
      return null;
    }
    try {
      const claims = jwt.verify(token, { keys: this.emulator.tokenKeys, audiences: [this.audience(hub)] });
      return { hub, claims };
    } catch (e) {
      if (!(e instanceof jwt.TokenError)) throw e;
      reject(401, `Invalid access token: ${e.message}`);
      return null;
    }
  }

  negotiate(req, res, url) {
    const { eventLog, log } = this.emulator;
    const reject = (status, text) => {
      eventLog.add('negotiate', { query: url.search, status, error: text });
      log(`negotiate ${url.search} -> ${status} ${text}`);
      sendText(res, status, text, status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {});
    };
    if (req.method !== 'POST') return reject(405, 'negotiate requires POST');
    const auth = this.authorize(req, url, reject);
    if (!auth) return undefined;

    const version = Number.parseInt(url.searchParams.get('negotiateVersion') || '0', 10) >= 1 ? 1 : 0;
    const connectionId = randomId();
    const connectionToken = version === 1 ? randomId() : connectionId;
    const timer = setTimeout(() => this.pending.delete(connectionToken), NEGOTIATE_TIMEOUT_MS);
    timer.unref();
    this.pending.set(connectionToken, { connectionId, hub: auth.hub, timer });

    const body = { negotiateVersion: version, connectionId };
    if (version === 1) body.connectionToken = connectionToken;
    body.availableTransports = [{ transport: 'WebSockets', transferFormats: ['Text', 'Binary'] }];
    eventLog.add('negotiate', { query: url.search, status: 200, hub: auth.hub, connectionId });
    log(`negotiate hub=${auth.hub} -> ${connectionId}`);
    return sendJson(res, 200, body);
  }

  upgrade(req, socket, head, url) {
    const { eventLog, log } = this.emulator;
    const reject = (status, text) => {
      eventLog.add('connect', { query: url.search, status, error: text });
      log(`connect ${url.search} -> ${status} ${text}`);
      const body = Buffer.from(text, 'utf8');
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
        'Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        `Content-Length: ${body.length}\r\n\r\n${text}`);
    };
    const auth = this.authorize(req, url, reject);
    if (!auth) return;

    let connectionId;
    const id = url.searchParams.get('id');
    if (id === null) {
      connectionId = randomId(); // skipNegotiation: WebSockets without negotiate
    } else {
      const pending = this.pending.get(id);
      if (!pending || pending.hub !== auth.hub) return reject(404, 'No Connection with that ID');
      clearTimeout(pending.timer);
      this.pending.delete(id);
      connectionId = pending.connectionId;
    }
    const query = url.search;
    this.wss.handleUpgrade(req, socket, head, (ws) => this.session(ws, { id: connectionId, query, ...auth }));
  }

  // One client connection, from the handshake to the close.
  session(ws, { id, hub, claims, query }) {
    const emulator = this.emulator;
    let conn = null;
    let pending = Buffer.alloc(0);
    let pingTimer = null;
    const handshakeTimer = setTimeout(() => ws.close(1000), HANDSHAKE_TIMEOUT_MS);

    const handshake = (data) => {
      pending = Buffer.concat([pending, data]);
      let parsed;
      let protocol;
      try {
        parsed = parseHandshake(pending);
        if (parsed === null) return;
        const { request } = parsed;
        protocol = Object.hasOwn(protocols, request.protocol) ? protocols[request.protocol] : undefined;
        if (!protocol) throw new ProtocolError(`The protocol '${request.protocol}' is not supported.`);
        if (request.version !== 1) {
          throw new ProtocolError(`The server does not support version ${request.version} of the '${request.protocol}' protocol.`);
        }
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        ws.send(handshakeResponse(e.message), { binary: false });
        ws.close(1000);
        emulator.eventLog.add('connect', { connectionId: id, hub, status: 'handshake failed', error: e.message });
        emulator.log(`connect ${id} hub=${hub}: handshake failed: ${e.message}`);
        clearTimeout(handshakeTimer);
        return;
      }
      clearTimeout(handshakeTimer);
      conn = new Connection({ id, hub, claims, query, protocol, ws, emulator });
      ws.send(handshakeResponse(), { binary: protocol.binary });
      emulator.hubs.get(hub).add(conn);
      emulator.eventLog.add('connect', { connectionId: id, hub, userId: conn.userId, protocol: protocol.name });
      emulator.log(`connected ${id} hub=${hub} user=${conn.userId ?? '-'} protocol=${protocol.name}`);
      pingTimer = setInterval(() => conn.send({ type: MessageType.Ping }, { log: false }), emulator.pingIntervalMs);
      const { upstream } = emulator;
      if (upstream) {
        conn.enqueue(async () => {
          if (await upstream.connected(conn)) return;
          conn.refused = true;
          conn.close('Connection refused by the upstream server.');
        });
      }
      if (parsed.rest.length > 0) receive(parsed.rest);
    };

    const receive = (data) => {
      let parsed;
      try {
        parsed = conn.protocol.parse(Buffer.concat([conn.buffer, data]));
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e;
        emulator.eventLog.add('client.receive', { connectionId: id, hub, error: e.message });
        conn.fail(e.message);
        return;
      }
      conn.buffer = parsed.rest;
      for (const message of parsed.messages) dispatch(message);
    };

    const dispatch = (message) => {
      if (message.type === MessageType.Ping) return;
      const { raw, ...shown } = message;
      const entry = emulator.eventLog.add('client.receive', { connectionId: id, hub, message: shown });
      const { upstream } = emulator;
      if (message.type === MessageType.Close) {
        conn.closeError = message.error ?? undefined;
        conn.closing = true;
        ws.close(1000);
      } else if (message.type === MessageType.Completion) {
        if (!conn.complete(message)) entry.dropped = 'no REST invocation waits for it';
      } else if (message.type !== MessageType.Invocation) {
        entry.dropped = 'not forwarded in serverless mode';
      } else if (conn.closing) {
        entry.dropped = 'the connection is closing';
      } else if (!upstream) {
        entry.dropped = 'no upstream configured';
      } else {
        conn.enqueue(() => conn.refused || upstream.invoke(conn, message));
      }
    };

    ws.on('message', (data) => {
      try {
        if (conn) receive(data);
        else handshake(data);
      } catch (e) {
        emulator.log(`connection ${id}: ${e.stack}`);
        ws.terminate();
      }
    });
    ws.on('close', (code) => {
      clearTimeout(handshakeTimer);
      clearInterval(pingTimer);
      if (!conn) return;
      emulator.hubs.get(hub).remove(conn);
      conn.abandonInvocations();
      const error = conn.closeError ??
        (CLEAN_CLOSE_CODES.includes(code) ? undefined : `WebSocket closed with status code ${code}.`);
      emulator.eventLog.add('disconnect', { connectionId: id, hub, code, error });
      emulator.log(`disconnected ${id} hub=${hub} code=${code}${error ? ` error=${error}` : ''}`);
      const { upstream } = emulator;
      if (upstream && !conn.refused) conn.enqueue(() => upstream.disconnected(conn, error));
    });
    ws.on('error', (e) => emulator.log(`connection ${id}: ${e.message}`));
  }

  close() {
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}

module.exports = { ClientEndpoint };
