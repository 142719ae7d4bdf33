'use strict';
// Upstream calls, service -> serverless app (docs/trigger.md; the emulator
// of Azure/azure-signalr, HubEmulator/HttpServerlessMessageHandler.cs).

const crypto = require('node:crypto');
const http = require('node:http');
const https = require('node:https');
const { MessageType } = require('./protocol');
const { claimsHeader } = require('./jwt');

const TIMEOUT_MS = 100 * 1000;               // .NET HttpClient's default
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024; // larger completions are refused

// Uri.EscapeDataString: encodeURIComponent plus ! ' ( ) *
function escapeDataString(value) {
  return encodeURIComponent(value).replace(/[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

// Header values travel as raw UTF-8 bytes; control characters become spaces.
function headerValue(value) {
  return Buffer.from(value.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, ' '), 'utf8').toString('latin1');
}

class Upstream {
  // template: URL with {hub} {category} {event}; keys: the signing keys;
  // bearer: with a managed identity, a function returning the token for the
  // Authorization header (the calls are then not signed).
  constructor({ template, keys, bearer, log, eventLog }) {
    this.template = template;
    this.keys = bearer ? [] : keys;
    this.bearer = bearer;
    this.log = log;
    this.eventLog = eventLog;
    this.agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  }

  static validateTemplate(template) {
    const url = new URL(template.replace(/\{(hub|category|event)\}/g, 'x'));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`upstream URL must be http or https: ${template}`);
    }
  }

  url(hub, category, event) {
    const values = { hub, category, event };
    return this.template.replace(/\{(hub|category|event)\}/g, (_, name) => escapeDataString(values[name]));
  }

  signature(connectionId) {
    return this.keys.map((key) => 'sha256=' +
      crypto.createHmac('sha256', Buffer.from(key, 'utf8')).update(connectionId, 'utf8').digest('hex').toUpperCase())
      .join(',');
  }

  headers(conn, category, event, contentType) {
    const h = {
      'X-ASRS-Connection-Id': conn.id,
      'X-ASRS-Hub': conn.hub,
      'X-ASRS-Category': category,
      'X-ASRS-Event': headerValue(event),
    };
    if (conn.userId) h['X-ASRS-User-Id'] = headerValue(conn.userId);
    const claims = claimsHeader(conn.claims);
    if (claims) h['X-ASRS-User-Claims'] = headerValue(claims);
    if (conn.query) h['X-ASRS-Client-Query'] = headerValue(conn.query);
    if (this.keys.length > 0) h['X-ASRS-Signature'] = this.signature(conn.id);
    if (this.bearer) h.Authorization = `Bearer ${this.bearer()}`;
    h['Content-Type'] = contentType;
    return h;
  }

  // Posts one event. Resolves { status, body } (status 500 and no body on a
  // transport error) or { tooLarge: true }; never rejects.
  post(conn, category, event, contentType, body) {
    const url = this.url(conn.hub, category, event);
    const headers = this.headers(conn, category, event, contentType);
    headers['Content-Length'] = String(body.length);
    const binary = contentType !== 'application/json';
    const entry = this.eventLog.add('upstream', {
      connectionId: conn.id, url, headers, ...encodeBody('body', body, binary),
    });
    return new Promise((resolve) => {
      let settled = false;
      const done = (result) => {
        if (settled) return;
        settled = true;
        if (result.tooLarge) result.error = 'response too large';
        Object.assign(entry, { status: result.status, error: result.error });
        if (result.body) Object.assign(entry, encodeBody('response', result.body, binary));
        this.log(`upstream ${category}/${event} ${conn.id} -> ${result.status || ''} ${result.error || ''}`);
        resolve(result);
      };
      const target = new URL(url);
      const req = (target.protocol === 'https:' ? https : http).request(target, {
        method: 'POST', headers, agent: this.agents[target.protocol], timeout: TIMEOUT_MS,
      }, (res) => {
        const chunks = [];
        let size = 0;
        res.on('data', (chunk) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            res.destroy();
            done({ tooLarge: true });
          } else {
            chunks.push(chunk);
          }
        });
        res.on('end', () => done({ status: res.statusCode, body: Buffer.concat(chunks) }));
        res.on('error', (e) => done({ status: 500, error: e.message }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (e) => done({ status: 500, error: e.message }));
      req.end(body);
    });
  }

  // Resolves true when the app accepted the connection (2xx).
  async connected(conn) {
    const r = await this.post(conn, 'connections', 'connected', 'application/json', Buffer.from('{"type":10}'));
    return r.status >= 200 && r.status < 300;
  }

  async disconnected(conn, error) {
    const body = error === undefined ? { type: 11 } : { type: 11, error };
    await this.post(conn, 'connections', 'disconnected', 'application/json', Buffer.from(JSON.stringify(body)));
  }

  // Forwards a client Invocation and, if it has an id, answers the client.
  async invoke(conn, message) {
    const protocol = conn.protocol;
    const r = await this.post(conn, 'messages', message.target, protocol.contentType, protocol.upstreamBody(message));
    const id = message.invocationId;
    if (id === undefined) return;
    if (r.tooLarge) {
      conn.send({ type: MessageType.Completion, invocationId: id, error: 'Invocation failed, response too large.' });
    } else if (r.status === 200 && r.body.length > 0) {
      conn.sendRaw(r.body);
    } else if (r.status === 200 || r.status === 204) {
      conn.send({ type: MessageType.Completion, invocationId: id });
    } else {
      conn.send({ type: MessageType.Completion, invocationId: id, error: `Invocation failed, status code ${r.status}` });
    }
  }

  close() {
    for (const agent of Object.values(this.agents)) agent.destroy();
  }
}

function encodeBody(name, bytes, binary) {
  return binary
    ? { [name]: bytes.toString('base64'), [`${name}Encoding`]: 'base64' }
    : { [name]: bytes.toString('utf8') };
}

module.exports = { Upstream };
