'use strict';
// Real @microsoft/signalr clients (JSON or MessagePack hub protocol) that
// record every message they receive, with bounded waits.

const signalR = require('@microsoft/signalr');
const { MessagePackHubProtocol } = require('@microsoft/signalr-protocol-msgpack');
const { withTimeout } = require('./stack');

const WAIT = 5000;

// Methods the tests' routes call on clients.
const METHODS = ['newMessage', 'userJoined', 'userLeft', 'presence'];

class Client {
  constructor(connection, name) {
    this.connection = connection;
    this.name = name;
    this.received = [];       // { method, args }
    this.waiters = [];
    this.closed = null;       // the error (or true) once closed
    this.closeWaiters = [];
    for (const method of METHODS) {
      connection.on(method, (...args) => this.record(method, args));
    }
    connection.onclose((error) => {
      this.closed = error || true;
      for (const w of this.closeWaiters) w(this.closed);
    });
  }

  get id() {
    return this.connection.connectionId;
  }

  record(method, args) {
    this.received.push({ method, args });
    this.waiters = this.waiters.filter((w) => !w());
  }

  // Resolves with the first received message matching the predicate.
  waitFor(predicate, what = 'a message', ms = WAIT) {
    const find = () => this.received.find(predicate);
    const found = find();
    if (found) return Promise.resolve(found);
    return withTimeout(new Promise((resolve) => {
      this.waiters.push(() => {
        const m = find();
        if (m) resolve(m);
        return Boolean(m);
      });
    }), ms, `${this.name} to receive ${what}`);
  }

  // newMessage calls whose arguments contain the text.
  texts() {
    return this.received.filter((m) => m.method === 'newMessage').map((m) => m.args);
  }

  waitClosed(ms = WAIT) {
    if (this.closed) return Promise.resolve(this.closed);
    return withTimeout(new Promise((resolve) => this.closeWaiters.push(resolve)), ms, `${this.name} to be closed`);
  }

  invoke(method, ...args) {
    return withTimeout(this.connection.invoke(method, ...args), WAIT, `invoke ${method} by ${this.name}`);
  }

  send(method, ...args) {
    return withTimeout(this.connection.send(method, ...args), WAIT, `send ${method} by ${this.name}`);
  }

  stop() {
    return withTimeout(this.connection.stop(), WAIT, `${this.name} to stop`).catch(() => {});
  }
}

// Connects to the hub behind baseUrl (e.g. http://127.0.0.1:N/api), which
// negotiates; user adds ?user=. Resolves the started Client.
async function connect(t, baseUrl, { user, protocol = 'json', name } = {}) {
  const url = user === undefined ? baseUrl : `${baseUrl}?user=${encodeURIComponent(user)}`;
  const builder = new signalR.HubConnectionBuilder()
    .withUrl(url, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None);
  if (protocol === 'messagepack') builder.withHubProtocol(new MessagePackHubProtocol());
  const connection = builder.build();
  const client = new Client(connection, name || user || 'anonymous');
  t.after(() => client.stop());
  await withTimeout(connection.start(), WAIT, `${client.name} to connect`);
  return client;
}

module.exports = { connect, signalR, WAIT };
