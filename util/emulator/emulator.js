#!/usr/bin/env node
'use strict';
// A local stand-in for Azure SignalR Service in serverless mode: client
// negotiate and WebSockets, the data-plane REST API and upstream calls;
// with --entra also Microsoft Entra ID and its token services.
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
const { TokenService, RoleAssignments } = require('./entra');
const { KeyExchange } = require('./keyexchange');
const { sendJson, sendText, send } = require('./httputil');

const HOST = '127.0.0.1';
const DEFAULT_KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
const KEY_MODES = ['both', 'key', 'key2', 'none'];
const UPSTREAM_AUTH_MODES = ['signature', 'entra'];
// Fixed, obviously made-up ids, so that a test setup can hard-code them.
const DEFAULT_TENANT = '11111111-1111-4111-8111-111111111111';
const DEFAULT_IDENTITY_CLIENT_ID = '22222222-2222-4222-8222-222222222222';
const DEFAULT_UPSTREAM_AUDIENCE = 'api://signalr-upstream';
// Options that mean something only with the Entra stand-ins.
const ENTRA_OPTIONS = ['tenant', 'clientId', 'clientSecret', 'identityClientId', 'identityHeader', 'federatedToken',
  'roleHolders', 'entraKeyLifetime', 'entraKeyGrace', 'entraTokenLifetime', 'disableLocalAuth', 'upstreamAudience'];
const TENANT = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;
const LOG_LIMIT = 10000;
// Seconds a REST :invoke waits for the client: the Management SDK's
// ServiceManagerOptions.HttpClientTimeout (Azure/azure-signalr).
const DEFAULT_INVOKE_TIMEOUT = 100;

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
  // invokeTimeout (seconds a REST :invoke waits for the client's
  // completion), log (function receiving one line of text).
  // Microsoft Entra ID (docs/emulator.md): entra (true turns the stand-ins
  // on), tenant, clientId, clientSecret, federatedToken, identityClientId,
  // identityHeader, roleHolders ('all', 'none', or client/object ids, a list
  // or comma-separated), entraKeyLifetime, entraKeyGrace and
  // entraTokenLifetime (seconds), disableLocalAuth, upstreamAuth
  // (signature|entra), upstreamAudience.
  constructor(options = {}) {
    const {
      port = 8888, key = DEFAULT_KEY, key2, upstream, upstreamKeyMode = 'both', pingInterval = 15,
      invokeTimeout = DEFAULT_INVOKE_TIMEOUT, log,
      entra = false, tenant = DEFAULT_TENANT, clientId, clientSecret, federatedToken,
      identityClientId = DEFAULT_IDENTITY_CLIENT_ID, identityHeader, roleHolders = 'all',
      entraKeyLifetime = 3300, entraKeyGrace = 2 * entraKeyLifetime, entraTokenLifetime = 3600,
      disableLocalAuth = false, upstreamAuth = 'signature', upstreamAudience = DEFAULT_UPSTREAM_AUDIENCE,
    } = options;
    if (!key) throw new Error('the access key must not be empty');
    if (!KEY_MODES.includes(upstreamKeyMode)) {
      throw new Error(`upstream key mode must be one of ${KEY_MODES.join(', ')}`);
    }
    if (upstreamKeyMode === 'key2' && !key2) throw new Error('upstream key mode key2 needs --key2');
    if (!(pingInterval > 0)) throw new Error('the ping interval must be a positive number of seconds');
    if (!(invokeTimeout > 0)) throw new Error('--invoke-timeout must be a positive number of seconds');
    if (!UPSTREAM_AUTH_MODES.includes(upstreamAuth)) {
      throw new Error(`--upstream-auth must be one of ${UPSTREAM_AUTH_MODES.join(', ')}`);
    }
    if (!entra) {
      const given = ENTRA_OPTIONS.filter((name) => options[name] !== undefined && options[name] !== false);
      if (upstreamAuth === 'entra') given.unshift('upstreamAuth');
      if (given.length > 0) throw new Error(`--${flag(given[0])} needs --entra`);
    } else {
      checkEntraOptions({ tenant, clientId, clientSecret, federatedToken, identityClientId, identityHeader,
        entraKeyLifetime, entraKeyGrace, entraTokenLifetime });
      if (options.upstreamAudience !== undefined && upstreamAuth !== 'entra') {
        throw new Error('--upstream-audience needs --upstream-auth entra');
      }
      if (!upstreamAudience) throw new Error('--upstream-audience must not be empty');
    }
    this.port = port;
    this.key = key;
    this.keys = key2 ? [key, key2] : [key];
    this.audienceBase = `http://${HOST}/`;
    this.pingIntervalMs = pingInterval * 1000;
    this.invokeTimeoutMs = invokeTimeout * 1000;
    this.log = log || ((line) => process.stderr.write(`[emulator] ${line}\n`));
    this.eventLog = new EventLog();
    this.tokenService = null; // the Entra ID stand-ins
    this.exchange = null;     // the service's side of Entra ID
    if (entra) {
      const roles = new RoleAssignments(roleHolders);
      const common = { eventLog: this.eventLog, log: this.log };
      this.tokenService = new TokenService({
        tenant, clientId, clientSecret, federatedToken, identityClientId, identityHeader, roles,
        tokenLifetime: entraTokenLifetime, ...common,
      });
      this.exchange = new KeyExchange({
        tokens: this.tokenService, roles, keyLifetime: entraKeyLifetime, keyGrace: entraKeyGrace, disableLocalAuth, ...common,
      });
    }
    this.upstreamAuth = upstreamAuth;
    this.upstreamAudience = upstreamAuth === 'entra' ? upstreamAudience : undefined;
    // The HS256 keys a token may be signed with, chosen by its header (the
    // kid of an exchanged key); a function for jwt.verify.
    this.tokenKeys = (header) => (this.exchange ? this.exchange.keysFor(header, this.keys) : this.keys);
    this.hubs = new Hubs();
    this.clients = new ClientEndpoint(this);
    this.rest = new RestApi(this);
    this.upstream = null;
    if (upstream) {
      Upstream.validateTemplate(upstream);
      const signingKeys = { both: this.keys, key: [key], key2: [key2], none: [] }[upstreamKeyMode];
      const bearer = upstreamAuth === 'entra' ? () => this.tokenService.upstreamToken(upstreamAudience) : undefined;
      this.upstream = new Upstream({ template: upstream, keys: signingKeys, bearer, log: this.log, eventLog: this.eventLog });
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
      (this.upstream ? `, upstream ${this.upstream.template}` : ', no upstream') +
      (this.upstream && this.upstreamAuth === 'entra' ? ` (Entra bearer token, audience ${this.upstreamAudience})` : ''));
    if (this.tokenService) {
      const base = `http://${HOST}:${this.port}`;
      const { tenant } = this.tokenService;
      this.log(`Microsoft Entra ID stand-ins, tenant ${tenant}: IMDS ${base}/metadata/identity/oauth2/token, ` +
        `App Service ${this.tokenService.identityHeader === undefined ? 'off' : `${base}/msi/token`}, ` +
        `token ${base}/${tenant}/oauth2/v2.0/token, keys ${base}/${tenant}/discovery/v2.0/keys, ` +
        `key exchange ${base}/api/v1/auth/accessKey${this.exchange.disableLocalAuth ? ', local auth disabled' : ''}`);
    }
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
    if (this.exchange) {
      if (this.exchange.handle(req, res, url)) return undefined;
      if (await this.tokenService.handle(req, res, url)) return undefined;
    }
    if (path.startsWith('/api/')) return this.rest.handle(req, res, url);
    if (path === '/_emulator/entra' || path.startsWith('/_emulator/entra/')) return this.entraControl(req, res, path, url);
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

  // GET /_emulator/entra: state and counters; DELETE: counters to zero;
  // POST /_emulator/entra/rotate[?revoke=true]: a new exchange key now.
  entraControl(req, res, path, url) {
    if (!this.exchange) {
      return sendText(res, 404, 'The Microsoft Entra ID stand-ins are off: start the emulator with --entra.');
    }
    if (path === '/_emulator/entra') {
      if (req.method === 'DELETE') {
        this.tokenService.resetCounters();
        this.exchange.resetCounters();
        return send(res, 204);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, undefined, { Allow: 'GET, HEAD, DELETE' });
      return sendJson(res, 200, {
        ...this.tokenService.state(),
        ...this.exchange.state(),
        upstreamAuth: this.upstreamAuth,
        ...(this.upstreamAudience ? { upstreamAudience: this.upstreamAudience } : {}),
      });
    }
    if (path === '/_emulator/entra/rotate') {
      if (req.method !== 'POST') return send(res, 405, undefined, { Allow: 'POST' });
      const revoke = ['1', 'true'].includes(url.searchParams.get('revoke'));
      const revokedKeyIds = revoke ? this.exchange.keys.map((k) => k.id) : [];
      const key = this.exchange.rotate({ revoke });
      this.eventLog.add('access-key.rotate', { keyId: key.id, revokedKeyIds });
      return sendJson(res, 200, { keyId: key.id, revokedKeyIds });
    }
    return sendText(res, 404, 'Not found');
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

function flag(name) {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function checkEntraOptions(o) {
  if (!TENANT.test(o.tenant)) throw new Error('--tenant must be a GUID or a domain name');
  for (const name of ['clientId', 'clientSecret', 'federatedToken', 'identityClientId', 'identityHeader']) {
    if (o[name] === '') throw new Error(`--${flag(name)} must not be empty`);
  }
  if ((o.clientSecret !== undefined || o.federatedToken !== undefined) && o.clientId === undefined) {
    throw new Error(`--${o.clientSecret !== undefined ? 'client-secret' : 'federated-token'} needs --client-id`);
  }
  if (o.clientId !== undefined && o.clientId.toLowerCase() === o.identityClientId.toLowerCase()) {
    throw new Error('--client-id and --identity-client-id must differ');
  }
  for (const name of ['entraKeyLifetime', 'entraKeyGrace', 'entraTokenLifetime']) {
    if (!(o[name] > 0)) throw new Error(`--${flag(name)} must be a positive number of seconds`);
  }
  if (o.entraKeyGrace < o.entraKeyLifetime) throw new Error('--entra-key-grace must be at least --entra-key-lifetime');
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
  --invoke-timeout <s>       seconds a REST :invoke waits for the client (default 100)
Microsoft Entra ID stand-ins (off by default):
  --entra                    serve IMDS, App Service, Entra token and keys endpoints
                             and the access key exchange (/api/v1/auth/accessKey)
  --tenant <id>              tenant id (default ${DEFAULT_TENANT})
  --client-id <id>           app registration for the Entra token endpoint
  --client-secret <s>        its client secret
  --federated-token <s>      the workload identity assertion it accepts
  --identity-client-id <id>  managed identity (default ${DEFAULT_IDENTITY_CLIENT_ID})
  --identity-header <s>      X-IDENTITY-HEADER of the App Service form (/msi/token)
  --role-holders <ids>       who holds "SignalR App Server": all (default), none,
                             or client/object ids separated by commas
  --entra-key-lifetime <s>   seconds the exchange hands out one key (default 3300)
  --entra-key-grace <s>      seconds after issue a key is accepted (default 2 lifetimes)
  --entra-token-lifetime <s> lifetime of issued Entra tokens (default 3600)
  --disable-local-auth       refuse tokens signed with the access keys
  --upstream-auth <m>        signature (default) or entra (managed identity bearer token)
  --upstream-audience <uri>  aud of the upstream token (default ${DEFAULT_UPSTREAM_AUDIENCE})
Each option can also be given as an environment variable SIGNALR_EMULATOR_<NAME>,
e.g. SIGNALR_EMULATOR_PORT, SIGNALR_EMULATOR_UPSTREAM_KEY_MODE; flags win.
Switches take 1/true/yes/on or 0/false/no/off there (SIGNALR_EMULATOR_ENTRA=1).`;

function optionsFrom(argv, env) {
  const names = ['port', 'key', 'key2', 'upstream', 'upstream-key-mode', 'ping-interval', 'invoke-timeout',
    'tenant', 'client-id', 'client-secret', 'federated-token', 'identity-client-id', 'identity-header', 'role-holders',
    'entra-key-lifetime', 'entra-key-grace', 'entra-token-lifetime', 'upstream-auth', 'upstream-audience'];
  const switches = ['entra', 'disable-local-auth'];
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries([
      ...names.map((n) => [n, { type: 'string' }]),
      ...[...switches, 'help'].map((n) => [n, { type: 'boolean' }]),
    ]),
    strict: true,
  });
  const get = (name) => values[name] ?? env[`SIGNALR_EMULATOR_${name.toUpperCase().replace(/-/g, '_')}`];
  const boolean = (name) => {
    const v = get(name);
    if (v === undefined || typeof v === 'boolean') return v;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off|)$/i.test(v)) return false;
    throw new Error(`SIGNALR_EMULATOR_${name.toUpperCase().replace(/-/g, '_')} must be 1/true/yes/on or 0/false/no/off`);
  };
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
    invokeTimeout: number('invoke-timeout'),
    entra: boolean('entra'),
    tenant: get('tenant'),
    clientId: get('client-id'),
    clientSecret: get('client-secret'),
    federatedToken: get('federated-token'),
    identityClientId: get('identity-client-id'),
    identityHeader: get('identity-header'),
    roleHolders: get('role-holders'),
    entraKeyLifetime: number('entra-key-lifetime'),
    entraKeyGrace: number('entra-key-grace'),
    entraTokenLifetime: number('entra-token-lifetime'),
    disableLocalAuth: boolean('disable-local-auth'),
    upstreamAuth: get('upstream-auth'),
    upstreamAudience: get('upstream-audience'),
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
