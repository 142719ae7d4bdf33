#!/usr/bin/env node
'use strict';
// A local stand-in for Azure SignalR Service in serverless mode: client
// negotiate and WebSockets, the data-plane REST API and upstream calls.
// See docs/emulator.md.

const http = require('node:http');
const path = require('node:path');
const { parseArgs } = require('node:util');

// Run without its npm packages (no `npm ci` yet), say what to run rather
// than show the stack trace of a failed require().
if (require.main === module) {
  const missing = Object.keys(require('./package.json').dependencies).filter((name) => {
    try {
      require.resolve(name);
      return false;
    } catch (e) {
      if (e.code === 'MODULE_NOT_FOUND') return true;
      throw e;
    }
  });
  if (missing.length) {
    const rel = path.relative(process.cwd(), __dirname);
    let dir = rel.startsWith('..') || path.isAbsolute(rel) ? __dirname : rel;
    if (/[^\w@%+=:,./-]/.test(dir)) dir = `'${dir.replace(/'/g, "'\\''")}'`;
    process.stderr.write(`emulator: its npm packages are not installed (${missing.join(', ')}); run\n`
      + `  ${dir ? `cd ${dir} && ` : ''}npm ci\n`
      + 'or make run in the repository, which installs them and starts the emulator.\n');
    process.exit(1);
  }
}

const { ClientEndpoint } = require('./client');
const { RestApi } = require('./rest');
const { Upstream } = require('./upstream');
const { Hubs } = require('./hubs');
const { sendJson, send } = require('./httputil');

const HOST = '127.0.0.1';
const DEFAULT_KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
const KEY_MODES = ['both', 'key', 'key2', 'none'];
const LOG_LIMIT = 10000;

// Everything received and sent, for GET /_emulator/log.
class EventLog {
  constructor() {
    this.entries = [];
    this.seq = 0;
  }

  // Returns the entry so that results can be added to it later.
  add(kind, fields) {
    const entry = { seq: ++this.seq, time: new Date().toISOString(), kind, ...fields };
    this.entries.push(entry);
    if (this.entries.length > LOG_LIMIT) this.entries.shift();
    return entry;
  }

  clear() {
    this.entries = [];
  }
}

class Emulator {
  // options: port (0 = any), key, key2, upstream (URL template),
  // upstreamKeyMode (both|key|key2|none), pingInterval (seconds),
  // log (function receiving one line of text).
  constructor({ port = 8888, key = DEFAULT_KEY, key2, upstream, upstreamKeyMode = 'both', pingInterval = 15, log } = {}) {
    if (!key) throw new Error('the access key must not be empty');
    if (!KEY_MODES.includes(upstreamKeyMode)) {
      throw new Error(`upstream key mode must be one of ${KEY_MODES.join(', ')}`);
    }
    if (upstreamKeyMode === 'key2' && !key2) throw new Error('upstream key mode key2 needs --key2');
    if (!(pingInterval > 0)) throw new Error('the ping interval must be a positive number of seconds');
    this.port = port;
    this.key = key;
    this.keys = key2 ? [key, key2] : [key];
    this.audienceBase = `http://${HOST}/`;
    this.pingIntervalMs = pingInterval * 1000;
    this.log = log || ((line) => process.stderr.write(`[emulator] ${line}\n`));
    this.eventLog = new EventLog();
    this.hubs = new Hubs();
    this.clients = new ClientEndpoint(this);
    this.rest = new RestApi(this);
    this.upstream = null;
    if (upstream) {
      Upstream.validateTemplate(upstream);
      const signingKeys = { both: this.keys, key: [key], key2: [key2], none: [] }[upstreamKeyMode];
      this.upstream = new Upstream({ template: upstream, keys: signingKeys, log: this.log, eventLog: this.eventLog });
    }
    this.server = http.createServer((req, res) => this.dispatch(req, res).catch((e) => {
      this.log(`${req.method} ${req.url}: ${e.stack}`);
      if (!res.headersSent) send(res, 500, 'Internal error');
      else res.destroy();
    }));
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  get connectionString() {
    return `Endpoint=http://${HOST};Port=${this.port};AccessKey=${this.key};Version=1.0;`;
  }

  async start() {
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, HOST, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = this.server.address().port;
    this.log(`listening on http://${HOST}:${this.port}/` +
      (this.upstream ? `, upstream ${this.upstream.template}` : ', no upstream'));
    return this;
  }

  async stop() {
    this.clients.close();
    if (this.upstream) this.upstream.close();
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }

  async dispatch(req, res) {
    const url = new URL(req.url, `http://${HOST}`);
    const path = url.pathname;
    if (path === '/client/negotiate') {
      if (req.method === 'OPTIONS') return preflight(req, res);
      allowOrigin(req, res);
      return this.clients.negotiate(req, res, url);
    }
    if (path === '/client' || path === '/client/') {
      return send(res, 400, 'Only the WebSockets transport is supported; send a WebSocket upgrade.',
        { 'Content-Type': 'text/plain; charset=utf-8' });
    }
    if (path.startsWith('/api/')) return this.rest.handle(req, res, url);
    if (path === '/_emulator/log') {
      if (req.method === 'DELETE') {
        this.eventLog.clear();
        return send(res, 204);
      }
      return sendJson(res, 200, this.eventLog.entries);
    }
    if (path === '/_emulator/connections') {
      return sendJson(res, 200, this.hubs.connections().map((c) => ({
        connectionId: c.id, hub: c.hub, userId: c.userId ?? null, protocol: c.protocol.name, groups: [...c.groups],
      })));
    }
    return send(res, 404, 'Not found', { 'Content-Type': 'text/plain; charset=utf-8' });
  }

  upgrade(req, socket, head) {
    const url = new URL(req.url, `http://${HOST}`);
    if (url.pathname === '/client' || url.pathname === '/client/') {
      try {
        this.clients.upgrade(req, socket, head, url);
      } catch (e) {
        this.log(`upgrade ${req.url}: ${e.stack}`);
        socket.destroy();
      }
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  }
}

// CORS for browser clients, which negotiate with credentials.
function allowOrigin(req, res) {
  if (!req.headers.origin) return;
  res.setHeader('Access-Control-Allow-Origin', req.headers.origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Vary', 'Origin');
}

function preflight(req, res) {
  allowOrigin(req, res);
  send(res, 204, undefined, {
    'Access-Control-Allow-Methods': 'POST',
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] || 'authorization',
    'Access-Control-Max-Age': '600',
  });
}

// ---- command line --------------------------------------------------------

const USAGE = `usage: node emulator.js [options]
  --port <n>                 port on 127.0.0.1 (default 8888; 0 = any free port)
  --key <key>                access key (default the Azure emulator's key)
  --key2 <key>               second access key, also accepted (key rotation)
  --upstream <url>           upstream URL template with {hub} {category} {event}
  --upstream-key-mode <m>    keys that sign upstream calls: both (default), key, key2, none
  --ping-interval <s>        seconds between pings to clients (default 15)
Each option can also be given as an environment variable SIGNALR_EMULATOR_<NAME>,
e.g. SIGNALR_EMULATOR_PORT, SIGNALR_EMULATOR_UPSTREAM_KEY_MODE; flags win.`;

function optionsFrom(argv, env) {
  const names = ['port', 'key', 'key2', 'upstream', 'upstream-key-mode', 'ping-interval'];
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries([...names.map((n) => [n, { type: 'string' }]), ['help', { type: 'boolean' }]]),
    strict: true,
  });
  const get = (name) => values[name] ?? env[`SIGNALR_EMULATOR_${name.toUpperCase().replace(/-/g, '_')}`];
  const number = (name) => {
    const v = get(name);
    if (v === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(v)) throw new Error(`--${name} must be a number`);
    return Number(v);
  };
  const port = number('port');
  if (port !== undefined && (!Number.isInteger(port) || port > 65535)) throw new Error('--port must be 0..65535');
  return {
    help: values.help,
    port,
    key: get('key'),
    key2: get('key2'),
    upstream: get('upstream'),
    upstreamKeyMode: get('upstream-key-mode'),
    pingInterval: number('ping-interval'),
  };
}

async function main() {
  let emulator;
  try {
    const { help, ...options } = optionsFrom(process.argv.slice(2), process.env);
    if (help) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    emulator = await new Emulator(options).start();
  } catch (e) {
    process.stderr.write(`emulator: ${e.message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`${emulator.connectionString}\n`);
  const shutdown = () => emulator.stop().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) main();

module.exports = { Emulator };
