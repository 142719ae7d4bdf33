'use strict';
// Small helpers for node:http responses and request bodies.

function send(res, status, body, headers) {
  const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(body, 'utf8');
  res.writeHead(status, { ...headers, 'Content-Length': bytes.length });
  res.end(res.req.method === 'HEAD' ? undefined : bytes);
}

function sendText(res, status, text, headers = {}) {
  send(res, status, text, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
}

function sendJson(res, status, value, headers = {}) {
  send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
}

// Reads the whole body. Resolves a Buffer, or null when it exceeds `limit`
// bytes (the rest is read and discarded).
function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= limit ? Buffer.concat(chunks) : null));
    req.on('error', reject);
  });
}

module.exports = { send, sendText, sendJson, readBody };
