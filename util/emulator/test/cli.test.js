'use strict';
// The command line: the printed connection string, options, environment.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { request, rest, rawClient, clientToken, startEmulator, TIMEOUT } = require('./helpers');

const SCRIPT = path.join(__dirname, '..', 'emulator.js');

// Runs the emulator; resolves { child, line } once it printed its line.
function run(t, args, env = {}) {
  const child = spawn(process.execPath, [SCRIPT, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  const exit = exited(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output; stderr: ${stderr}`)), TIMEOUT);
    child.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.includes('\n')) {
        clearTimeout(timer);
        resolve({ child, exit, stdout: () => stdout, stderr: () => stderr });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ child, exit, code, stdout: () => stdout, stderr: () => stderr });
    });
  });
}

const exited = (child) => new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

test('prints one connection-string line, serves, stops on SIGTERM', { timeout: 10000 }, async (t) => {
  const { child, exit, stdout, stderr } = await run(t, ['--port', '0']);
  const m = /^Endpoint=http:\/\/127\.0\.0\.1;Port=(\d+);AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1\.0;\n$/.exec(stdout());
  assert.ok(m, stdout());
  const port = Number(m[1]);
  assert.ok(port > 0);
  assert.equal((await request(port, 'HEAD', '/api/health')).status, 200);
  assert.match(stderr(), /listening on http:\/\/127\.0\.0\.1:\d+\/, no upstream/);
  assert.match(stderr(), /HEAD \/api\/health -> 200/);
  child.kill('SIGTERM');
  assert.deepEqual(await exit, { code: 0, signal: null });
  assert.equal(stdout().split('\n').length, 2, 'nothing else on stdout');
});

test('options from flags and environment; flags win', { timeout: 10000 }, async (t) => {
  const { stdout } = await run(t, ['--key', 'flag-key'], { SIGNALR_EMULATOR_PORT: '0', SIGNALR_EMULATOR_KEY: 'env-key', SIGNALR_EMULATOR_KEY2: 'env-key2' });
  const port = Number(/Port=(\d+);/.exec(stdout())[1]);
  assert.match(stdout(), /;AccessKey=flag-key;/);
  const emulator = { port };
  assert.equal((await rest(emulator, 'HEAD', '/api/hubs/chat/users/u?api-version=2022-06-01', { token: undefined })).status, 401, 'default key not accepted');
  const negotiate = (key) => request(port, 'POST', '/client/negotiate?hub=chat', { headers: { Authorization: `Bearer ${clientToken({ key })}` } });
  assert.equal((await negotiate('flag-key')).status, 200);
  assert.equal((await negotiate('env-key2')).status, 200);
  assert.equal((await negotiate('env-key')).status, 401);
});

test('bad options exit with status 2 and the usage', { timeout: 10000 }, async (t) => {
  for (const args of [['--bogus'], ['--port', 'x'], ['--port', '70000'], ['--upstream', 'nope'], ['--ping-interval', '0'], ['--invoke-timeout', '0'], ['--invoke-timeout', 'x'], ['--upstream-key-mode', 'x', '--upstream', 'http://127.0.0.1/']]) {
    const { code, stderr, stdout } = await run(t, args);
    assert.equal(code, 2, args.join(' '));
    assert.match(stderr(), /usage: node emulator\.js/);
    assert.equal(stdout(), '');
  }
});

test('a port in use is reported', { timeout: 10000 }, async (t) => {
  const busy = await startEmulator(t);
  const { code, stderr } = await run(t, ['--port', String(busy.port)]);
  assert.equal(code, 2);
  assert.match(stderr(), /EADDRINUSE/);
});

test('--help', { timeout: 10000 }, async (t) => {
  const { exit, stdout } = await run(t, ['--help']);
  assert.equal((await exit).code, 0);
  assert.match(stdout(), /--upstream-key-mode/);
  assert.match(stdout(), /--invoke-timeout <s> +seconds a REST :invoke waits for the client \(default 100\)/);
});

test('--invoke-timeout from flag and environment', { timeout: 10000 }, async (t) => {
  for (const [args, env, seconds] of [[['--invoke-timeout', '0.2'], {}, '0.2'], [[], { SIGNALR_EMULATOR_INVOKE_TIMEOUT: '0.3' }, '0.3'],
    [['--invoke-timeout', '0.2'], { SIGNALR_EMULATOR_INVOKE_TIMEOUT: '50' }, '0.2']]) {
    const { stdout } = await run(t, ['--port', '0', ...args], env);
    const emulator = { port: Number(/Port=(\d+);/.exec(stdout())[1]) };
    const c = await rawClient(t, emulator);
    const r = await rest(emulator, 'POST', `/api/hubs/chat/connections/${c.id}/:invoke?api-version=2024-12-01`, { body: { target: 't' } });
    assert.equal(r.status, 504, r.body);
    assert.equal(JSON.parse(r.body).message, `The client did not complete the invocation within ${seconds} s.`);
  }
});

test('without its npm packages: what to run, status 1, no stack trace', { timeout: 10000 }, async (t) => {
  // a copy of the emulator's files without node_modules
  const fs = require('node:fs');
  const os = require('node:os');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emulator-no-deps-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(__dirname, '..');
  for (const f of fs.readdirSync(src)) {
    if (f.endsWith('.js') || f === 'package.json') fs.copyFileSync(path.join(src, f), path.join(dir, f));
  }
  const deps = Object.keys(require('../package.json').dependencies);
  const found = deps.filter((name) => {
    try {
      return Boolean(require.resolve(name, { paths: [dir] }));
    } catch {
      return false;
    }
  });
  if (found.length) return t.skip(`found outside node_modules: ${found.join(', ')}`);
  const child = spawn(process.execPath, [path.join(dir, 'emulator.js'), '--port', '0'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const { code } = await exited(child);
  assert.equal(code, 1);
  assert.equal(stdout, '');
  assert.equal(stderr, `emulator: its npm packages are not installed (${deps.join(', ')}); run\n`
    + '  npm ci\n'
    + 'or make run in the repository, which installs them and starts the emulator.\n');
});

test('Entra options from flags and environment', { timeout: 10000 }, async (t) => {
  const { stdout, stderr } = await run(t, ['--port', '0', '--entra', '--client-id', 'app', '--client-secret', 's',
    '--role-holders', 'app', '--entra-key-lifetime', '0.5', '--upstream', 'http://127.0.0.1:1/{event}', '--upstream-auth', 'entra'],
  { SIGNALR_EMULATOR_TENANT: 'contoso.onmicrosoft.com', SIGNALR_EMULATOR_DISABLE_LOCAL_AUTH: 'true', SIGNALR_EMULATOR_IDENTITY_HEADER: 'h' });
  const port = Number(/Port=(\d+);/.exec(stdout())[1]);
  const state = JSON.parse((await request(port, 'GET', '/_emulator/entra')).body);
  assert.equal(state.tenant, 'contoso.onmicrosoft.com');
  assert.deepEqual(state.roleHolders, ['app']);
  assert.deepEqual([state.keyLifetime, state.keyGrace, state.tokenLifetime], [0.5, 1, 3600]);
  assert.equal(state.disableLocalAuth, true);
  assert.deepEqual([state.upstreamAuth, state.upstreamAudience], ['entra', 'api://signalr-upstream']);
  assert.equal((await request(port, 'GET', '/msi/token?api-version=2019-08-01&resource=https://signalr.azure.com',
    { headers: { 'X-IDENTITY-HEADER': 'h' } })).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.match(stderr(), /Microsoft Entra ID stand-ins, tenant contoso\.onmicrosoft\.com: IMDS http:\/\/127\.0\.0\.1:\d+\/metadata\/identity\/oauth2\/token, App Service http/);
  assert.match(stderr(), /local auth disabled/);
});

test('bad Entra options exit with status 2', { timeout: 10000 }, async (t) => {
  for (const [args, env] of [[['--client-id', 'x'], {}], [[], { SIGNALR_EMULATOR_ENTRA: 'maybe' }],
    [['--entra', '--entra-key-lifetime', 'x'], {}], [['--entra', '--upstream-auth', 'x'], {}]]) {
    const { code, stderr } = await run(t, args, env);
    assert.equal(code, 2, args.join(' '));
    assert.match(stderr(), /usage: node emulator\.js/);
  }
  const { exit, stdout } = await run(t, ['--help']);
  assert.equal((await exit).code, 0);
  assert.match(stdout(), /--entra-key-lifetime/);
});
