'use strict';
// Processes for the end-to-end tests: the emulator (util/emulator) and nginx
// with the module, each on a free loopback port, each stopped when the test
// file ends (t.after), whatever happened. Every wait is bounded.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NGINX = process.env.NGINX || '/usr/sbin/nginx';
const MODULE = process.env.SIGNALR_MODULE || path.join(ROOT, 'build', 'ngx_http_signalr_module.so');
const EMULATOR = path.join(ROOT, 'util', 'emulator', 'emulator.js');
const EMULATOR_KEY = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH';
const START_TIMEOUT = 15000;
const STOP_TIMEOUT = 5000;

// Every child still running when this process ends is sent its stop signal
// (nginx's master stops its workers), so nothing outlives an interrupted run.
const running = new Map(); // child -> signal
// A watchdog stops the child too if this process is killed outright
// (SIGKILL: no handler runs).
function track(child, signal) {
  running.set(child, signal);
  const watchdog = spawn('sh', ['-c',
    'while kill -0 "$1" 2>/dev/null; do sleep 0.5; done; kill -s "$3" "$2" 2>/dev/null',
    'watchdog', String(process.pid), String(child.pid), signal.replace(/^SIG/, '')],
  { detached: true, stdio: 'ignore' });
  watchdog.unref();
  child.once('exit', () => {
    running.delete(child);
    try { watchdog.kill('SIGKILL'); } catch { /* gone */ }
  });
}
function stopAll() {
  for (const [child, signal] of running) {
    try { child.kill(signal); } catch { /* gone */ }
  }
}
process.once('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    stopAll();
    process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 })[signal]);
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Rejects after ms with a message naming what was awaited.
function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// A port that was free a moment ago on 127.0.0.1.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}

// Stops a child: the signal, then SIGKILL if it has not exited in time.
async function stopChild(child, signal = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  try {
    await withTimeout(exited, STOP_TIMEOUT, `pid ${child.pid} to exit`);
  } catch {
    child.kill('SIGKILL');
    await withTimeout(exited, STOP_TIMEOUT, `pid ${child.pid} to die`).catch(() => {});
  }
}

// Starts util/emulator/emulator.js on a free port (or options.port). options: key, key2,
// upstream (URL template), upstreamKeyMode, name (of its log file,
// build/e2e/emulator-<name>.log). Resolves { port, url,
// connectionString, log(), clearLog(), output() }.
async function startEmulator(t, options = {}) {
  const logDir = path.join(ROOT, 'build', 'e2e');
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `emulator-${options.name || 'default'}.log`);
  const logStream = fs.createWriteStream(logFile);
  const args = [EMULATOR, '--port', String(options.port || 0), '--key', options.key || EMULATOR_KEY];
  if (options.key2) args.push('--key2', options.key2);
  if (options.upstream) args.push('--upstream', options.upstream);
  if (options.upstreamKeyMode) args.push('--upstream-key-mode', options.upstreamKeyMode);
  if (options.pingInterval) args.push('--ping-interval', String(options.pingInterval));
  if (options.args) args.push(...options.args);

  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child, 'SIGKILL');
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; logStream.write(d); });
  t.after(async () => {
    await stopChild(child);
    logStream.end();
  });

  const line = await withTimeout(new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) resolve(stdout.slice(0, nl).trim());
    });
    child.once('exit', (code) => reject(new Error(`the emulator exited with ${code}: ${stderr}`)));
  }), START_TIMEOUT, 'the emulator to print its connection string');

  const m = /^Endpoint=http:\/\/127\.0\.0\.1;Port=(\d+);AccessKey=([^;]+);Version=1\.0;$/.exec(line);
  if (!m) throw new Error(`unexpected first line from the emulator: ${line}`);
  const port = Number(m[1]);
  const url = `http://127.0.0.1:${port}`;
  return {
    port,
    url,
    connectionString: line,
    stop: () => stopChild(child),
    output: () => stderr,
    async log() {
      const res = await fetchWithTimeout(`${url}/_emulator/log`);
      return res.json();
    },
    async clearLog() {
      await fetchWithTimeout(`${url}/_emulator/log`, { method: 'DELETE' });
    },
    async connections() {
      const res = await fetchWithTimeout(`${url}/_emulator/connections`);
      return res.json();
    },
  };
}

// Starts nginx with the module. conf: the http{} contents (a string, or a
// function of the port); env: environment for nginx (the connection string);
// workers: worker_processes (1). Its prefix is build/e2e/<name> (its logs
// stay there). Resolves { port, url, prefix, pid, errorLog(), reload(conf) }.
async function startNginx(t, { name, port, conf, env = {}, files = {}, workers = 1 }) {
  if (!fs.existsSync(MODULE)) throw new Error(`${MODULE} is missing: run make first`);
  port = port || await freePort();
  const prefix = path.join(ROOT, 'build', 'e2e', name);
  fs.rmSync(prefix, { recursive: true, force: true });
  for (const dir of ['conf', 'logs', 'html']) fs.mkdirSync(path.join(prefix, dir), { recursive: true });
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(prefix, file)), { recursive: true });
    fs.writeFileSync(path.join(prefix, file), content);
  }

  const wrap = (c) => {
    const text = typeof c === 'function' ? c(port) : c;
    return text.includes('load_module') ? text : `load_module ${MODULE};
daemon off;
master_process on;
worker_processes ${workers};
pid logs/nginx.pid;
error_log logs/error.log info;
events { worker_connections 256; }
http {
    access_log logs/access.log;
${text}
}
`;
  };
  const confFile = path.join(prefix, 'conf', 'nginx.conf');
  fs.writeFileSync(confFile, wrap(conf));

  const errorLog = () => {
    try { return fs.readFileSync(path.join(prefix, 'logs', 'error.log'), 'utf8'); } catch { return ''; }
  };

  const child = spawn(NGINX, ['-p', `${prefix}/`, '-c', confFile, '-e', 'logs/error.log'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, ...env },
  });
  track(child, 'SIGTERM');
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  t.after(() => stopChild(child, 'SIGQUIT'));

  const deadline = Date.now() + START_TIMEOUT;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`nginx exited with ${child.exitCode}: ${output}\n${errorLog()}`);
    }
    if (await canConnect(port)) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}: ${output}\n${errorLog()}`);
    await sleep(50);
  }
  // the worker processes the error log says were started and have not
  // exited (the master logs both at notice level)
  const liveWorkers = (log) => {
    const exited = new Set([...log.matchAll(/worker process (\d+) exited/g)].map((m) => m[1]));
    return [...log.matchAll(/start worker process (\d+)/g)].map((m) => m[1]).filter((pid) => !exited.has(pid));
  };
  // a new configuration (the same one without newConf), loaded with
  // SIGHUP: resolves once the new workers run (their "start worker
  // process" lines) and every old one has exited
  async function reload(newConf) {
    const before = errorLog();
    const started = (before.match(/start worker process/g) || []).length;
    const old = liveWorkers(before);
    if (newConf !== undefined) fs.writeFileSync(confFile, wrap(newConf));
    child.kill('SIGHUP');
    const until = Date.now() + START_TIMEOUT;
    for (;;) {
      const log = errorLog();
      const live = liveWorkers(log);
      if ((log.match(/start worker process/g) || []).length >= started + workers
          && !old.some((pid) => live.includes(pid))) {
        return;
      }
      if (/\[emerg\]/.test(log.slice(before.length))) {
        throw new Error(`nginx refused the new configuration: ${log}`);
      }
      if (Date.now() > until) throw new Error(`nginx did not reload (old workers ${old.join(', ')}): ${log}`);
      await sleep(50);
    }
  }

  return {
    port, url: `http://127.0.0.1:${port}`, prefix, pid: child.pid, errorLog, reload,
    workers: () => liveWorkers(errorLog()), output: () => output,
  };
}

// Starts a program and waits for a line of its output matching ready.
// Resolves { child, output() }.
async function startProcess(t, command, args, { ready, name = command, env } = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env || process.env });
  track(child, 'SIGKILL');
  let output = '';
  t.after(() => stopChild(child));
  await withTimeout(new Promise((resolve, reject) => {
    const onData = (d) => {
      output += d;
      if (ready.test(output)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${output}`)));
  }), START_TIMEOUT, `${name} to start`);
  return { child, output: () => output };
}

async function fetchWithTimeout(url, options = {}, ms = 5000) {
  return fetch(url, { ...options, signal: AbortSignal.timeout(ms) });
}

module.exports = {
  ROOT, NGINX, MODULE, EMULATOR_KEY,
  sleep, withTimeout, freePort, startEmulator, startNginx, startProcess, stopChild, fetchWithTimeout,
};
