'use strict';
// Shared test helpers: token minting, HTTP requests, SignalR clients, a
// recording upstream server. Nothing here uses the emulator's own modules
// except Emulator itself, so that the tests check it independently.

const crypto = require('node:crypto');
const http = require('node:http');
const signalR = require('@microsoft/signalr');
const { MessagePackHubProtocol } = require('@microsoft/signalr-protocol-msgpack');
const { Emulator } = require('../emulator');

const KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH'; // the Azure emulator's key
const KEY2 = 'Zm9vYmFyLXNlY29uZC1rZXktZm9yLXJvdGF0aW9uLTAx';
const OTHER_KEY = 'not-the-configured-key';
const TIMEOUT = 3000; // for any single awaited event

const b64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

function mint(payload, key = KEY, header = { alg: 'HS256', typ: 'JWT' }) {
  const signed = `${b64url(header)}.${b64url(payload)}`;
  const algorithm = { HS256: 'sha256', HS512: 'sha512' }[header.alg] || 'sha256';
  return `${signed}.${crypto.createHmac(algorithm, Buffer.from(key, 'utf8')).update(signed).digest('base64url')}`;
}

const now = () => Math.floor(Date.now() / 1000);

// The JWT header, with `kid` when given (the KeyId of an exchanged key).
const hs256 = (kid) => (kid === undefined ? undefined : { alg: 'HS256', typ: 'JWT', kid });

// A client token as the SDK mints it: asrs.s.uid, nbf, exp, iat, aud.
function clientToken({ hub = 'chat', user, key = KEY, kid, aud, claims = {}, nbf = now(), exp = now() + 3600 } = {}) {
  const payload = { ...(user === undefined ? {} : { 'asrs.s.uid': user }), ...claims, nbf, exp, iat: now() };
  if (exp === null) delete payload.exp;
  payload.aud = aud ?? `http://127.0.0.1/client/?hub=${hub}`;
  return mint(payload, key, hs256(kid));
}

// A REST token in the SDK's form; `path` is the request path without query.
function restToken(path, { key = KEY, kid, aud, exp = now() + 3600 } = {}) {
  return mint({ nameid: 'test', nbf: now(), exp, iat: now(), aud: aud ?? `http://127.0.0.1${path}?api-version=2022-06-01` },
    key, hs256(kid));
}

async function startEmulator(t, options = {}) {
  const emulator = await new Emulator({ port: 0, log: () => {}, ...options }).start();
  t.after(() => emulator.stop());
  return emulator;
}

// Plain HTTP request; resolves { status, headers, body } (body a string).
function request(port, method, path, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(TIMEOUT, () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

// A REST call with a valid SDK-form token unless `token` is given.
// `path` may carry extra query parameters after "?api-version=2022-06-01";
// without that (v1 routes) the audience is the path alone.
function rest(emulator, method, path, { token, body, headers = {} } = {}) {
  const bare = path.split('?')[0];
  const aud = path.startsWith(`${bare}?api-version=2022-06-01`) ? undefined : `http://127.0.0.1${bare}`;
  const json = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
  return request(emulator.port, method, path, {
    headers: {
      Authorization: `Bearer ${token ?? restToken(bare, { aud })}`,
      ...(json === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' }),
      ...headers,
    },
    body: json,
  });
}

// Values pushed by one side, awaited one by one by the other.
class Inbox {
  constructor() {
    this.items = [];
    this.waiters = [];
  }

  push(item) {
    const waiter = this.waiters.shift();
    if (waiter) waiter(item);
    else this.items.push(item);
  }

  next(timeout = TIMEOUT) {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(done), 1);
        reject(new Error(`nothing received within ${timeout} ms`));
      }, timeout);
      const done = (item) => {
        clearTimeout(timer);
        resolve(item);
      };
      this.waiters.push(done);
    });
  }
}

// A started @microsoft/signalr HubConnection; `inbox` collects the
// arguments of every "msg" invocation, `closed` the onclose error.
async function hubClient(t, emulator, { hub = 'chat', user, protocol = 'json', token, claims, skipNegotiation = false } = {}) {
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(`http://127.0.0.1:${emulator.port}/client/?hub=${hub}`, {
      accessTokenFactory: () => token ?? clientToken({ hub: hub.toLowerCase(), user, claims }),
      transport: signalR.HttpTransportType.WebSockets,
      skipNegotiation,
    })
    .configureLogging(signalR.LogLevel.None);
  if (protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  const inbox = new Inbox();
  const closed = new Inbox();
  connection.on('msg', (...args) => inbox.push(args));
  connection.onclose((error) => closed.push(error));
  await connection.start();
  t.after(() => connection.stop());
  return { connection, inbox, closed, id: connection.connectionId };
}

// A raw WebSocket client (ws): negotiates, connects, does the handshake.
// `frames` receives { data: Buffer, binary } for every frame after the
// handshake response.
async function rawClient(t, emulator, { hub = 'chat', user, protocol = 'json', token } = {}) {
  const WebSocket = require('ws');
  const bearer = token ?? clientToken({ hub, user });
  const negotiated = await request(emulator.port, 'POST', `/client/negotiate?hub=${hub}&negotiateVersion=1`,
    { headers: { Authorization: `Bearer ${bearer}` } });
  if (negotiated.status !== 200) throw new Error(`negotiate: ${negotiated.status} ${negotiated.body}`);
  const { connectionId, connectionToken } = JSON.parse(negotiated.body);
  const ws = new WebSocket(`ws://127.0.0.1:${emulator.port}/client/?hub=${hub}&id=${connectionToken}`,
    { headers: { Authorization: `Bearer ${bearer}` } });
  t.after(() => ws.terminate());
  const frames = new Inbox();
  const closed = new Inbox();
  ws.on('message', (data, binary) => frames.push({ data, binary }));
  ws.on('close', (code) => closed.push(code));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ protocol, version: 1 }) + '\x1e');
  const handshake = await frames.next();
  if (handshake.data.toString() !== '{}\x1e') throw new Error(`handshake: ${handshake.data}`);
  return { ws, frames, closed, id: connectionId };
}

// Polls `fn` until it returns a truthy value.
async function waitFor(fn, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// An upstream app that records requests and answers with `respond(req)`:
// { status, body, headers } or 'destroy' to drop the connection.
async function upstreamServer(t, respond = () => ({ status: 200 })) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const recorded = { method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(recorded);
      const answer = await respond(recorded);
      if (answer === 'destroy') {
        req.socket.destroy();
        return;
      }
      res.writeHead(answer.status, answer.headers || {});
      res.end(answer.body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections?.();
    return new Promise((resolve) => server.close(resolve));
  });
  const port = server.address().port;
  return {
    port,
    requests,
    // The first request for category/event after `from` requests.
    async next(category, event, from = 0) {
      return waitFor(() => requests.slice(from).find((r) =>
        r.headers['x-asrs-category'] === category && r.headers['x-asrs-event'] === event), `${category}/${event}`);
    },
  };
}

function signature(keys, connectionId) {
  return keys.map((k) => `sha256=${crypto.createHmac('sha256', k).update(connectionId).digest('hex').toUpperCase()}`).join(',');
}

async function eventLog(emulator) {
  return JSON.parse((await request(emulator.port, 'GET', '/_emulator/log')).body);
}

module.exports = {
  KEY, KEY2, OTHER_KEY, TIMEOUT, signalR,
  mint, now, clientToken, restToken, startEmulator, request, rest, Inbox, hubClient, rawClient,
  waitFor, upstreamServer, signature, eventLog,
};
