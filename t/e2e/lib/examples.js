'use strict';
// The examples of docs/examples, filled in as util/run.sh fills them, and
// started: the emulator, the example's own nginx.conf, its served files.

const fs = require('node:fs');
const path = require('node:path');
const { ROOT, MODULE, startEmulator, startNginx, freePort } = require('./stack');

const SIGNALR_JS = require.resolve('@microsoft/signalr/dist/browser/signalr.min.js');

// docs/examples/<name>/nginx.conf with @NAME@ replaced from vars.
function render(name, vars) {
  let text = fs.readFileSync(path.join(ROOT, 'docs', 'examples', name, 'nginx.conf'), 'utf8');
  text = text.replace(/@([A-Z_]+)@/g, (all, key) => {
    if (!(key in vars)) throw new Error(`${name}/nginx.conf: no value for ${all}`);
    return String(vars[key]);
  });
  return text;
}

// The chat room of make run on free ports; name: of the nginx prefix and
// emulator log under build/e2e. Resolves { emulator, nginx }.
async function startChat(t, name) {
  const port = await freePort();
  const emulator = await startEmulator(t, { name, upstream: `http://127.0.0.1:${port}/runtime/webhooks/signalr` });
  const nginx = await startNginx(t, {
    name,
    port,
    conf: render('chat', { MODULE, PORT: port, SERVICE: emulator.url }),
    env: { AzureSignalRConnectionString: emulator.connectionString },
    files: {
      'html/index.html': fs.readFileSync(path.join(ROOT, 'docs', 'examples', 'chat', 'index.html')),
      'html/lib/signalr.min.js': fs.readFileSync(SIGNALR_JS),
      'html/config.json': JSON.stringify({
        service: 'emulator', endpoint: emulator.url,
        upstream: `http://127.0.0.1:${port}/runtime/webhooks/signalr`, upstreamPath: '/runtime/webhooks/signalr',
      }),
    },
  });
  return { emulator, nginx };
}

module.exports = { render, startChat, SIGNALR_JS };
