'use strict';
// Verification of the HS256 access tokens the service accepts (client and
// REST tokens: ClaimsUtility.cs and RestApiAccessTokenGenerator.cs of
// Azure/azure-signalr). The key is the access key string's UTF-8 bytes.
// Also RS256 signing and verification, for the Microsoft Entra ID tokens of
// the stand-ins in entra.js.

const crypto = require('node:crypto');

// The algorithms the Azure SignalR SDKs can produce.
const ALGORITHMS = { HS256: 'sha256', HS512: 'sha512' };

// Allowed clock difference for exp and nbf, in seconds.
const CLOCK_SKEW = 5;

class TokenError extends Error {}

// Verifies `token` against any of `keys` and returns its payload.
// `keys`: key strings, or a function of the decoded header returning them
// (it may throw a TokenError, e.g. for an unknown `kid`).
// `audiences`: the accepted `aud` values; `now`: seconds since the epoch.
function verify(token, { keys, audiences, now = Date.now() / 1000 }) {
  const parts = split(token);
  const header = decodeSegment(parts[0], 'header');
  const hash = ALGORITHMS[header.alg];
  if (hash === undefined) throw new TokenError(`unsupported alg ${JSON.stringify(header.alg)}`);
  const candidates = typeof keys === 'function' ? keys(header) : keys;

  const signed = `${parts[0]}.${parts[1]}`;
  const given = Buffer.from(parts[2]);
  const valid = candidates.some((key) => {
    const expected = Buffer.from(crypto.createHmac(hash, Buffer.from(key, 'utf8')).update(signed).digest('base64url'));
    return expected.length === given.length && crypto.timingSafeEqual(expected, given);
  });
  if (!valid) throw new TokenError('invalid signature');

  const payload = decodeSegment(parts[1], 'payload');
  checkClaims(payload, { audiences, now });
  return payload;
}

// Verifies an RS256 token and returns its payload. `publicKeys`: a Map of
// kid -> KeyObject; `issuers`: the accepted `iss` values.
function verifyRs256(token, { publicKeys, audiences, issuers, now = Date.now() / 1000 }) {
  const parts = split(token);
  const header = decodeSegment(parts[0], 'header');
  if (header.alg !== 'RS256') throw new TokenError(`unsupported alg ${JSON.stringify(header.alg)}, expected RS256`);
  const key = publicKeys.get(header.kid);
  if (key === undefined) throw new TokenError(`unknown signing key kid ${JSON.stringify(header.kid ?? null)}`);
  const valid = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), key, Buffer.from(parts[2], 'base64url'));
  if (!valid) throw new TokenError('invalid signature');

  const payload = decodeSegment(parts[1], 'payload');
  if (!issuers.includes(payload.iss)) {
    throw new TokenError(`iss ${JSON.stringify(payload.iss ?? null)} is not ${issuers.map((i) => JSON.stringify(i)).join(' or ')}`);
  }
  checkClaims(payload, { audiences, now });
  return payload;
}

function signRs256(payload, { privateKey, kid }) {
  const signed = `${encodeSegment({ typ: 'JWT', alg: 'RS256', kid })}.${encodeSegment(payload)}`;
  return `${signed}.${crypto.sign('sha256', Buffer.from(signed), privateKey).toString('base64url')}`;
}

// The decoded header of a token, for choosing how to verify it.
function header(token) {
  return decodeSegment(split(token)[0], 'header');
}

function split(token) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenError('malformed token');
  return parts;
}

function checkClaims(payload, { audiences, now }) {
  if (typeof payload.exp !== 'number') throw new TokenError('no exp claim');
  if (payload.exp + CLOCK_SKEW <= now) throw new TokenError('token expired');
  if (payload.nbf !== undefined) {
    if (typeof payload.nbf !== 'number') throw new TokenError('nbf is not a number');
    if (payload.nbf - CLOCK_SKEW > now) throw new TokenError('token not yet valid (nbf)');
  }
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!aud.some((a) => audiences.includes(a))) {
    throw new TokenError(`aud ${JSON.stringify(payload.aud)} is not ${audiences.map((a) => JSON.stringify(a)).join(' or ')}`);
  }
}

function encodeSegment(value) {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

function decodeSegment(segment, what) {
  let value;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError(`${what} is not base64url JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenError(`${what} is not a JSON object`);
  }
  return value;
}

// The SignalR user id of a token: asrs.s.uid, else nameid, else sub. An empty
// asrs.s.uid counts as absent (as ClaimsUtility.cs of Azure/azure-signalr).
function userId(claims) {
  for (const name of ['asrs.s.uid', 'nameid', 'sub']) {
    const value = Array.isArray(claims[name]) ? claims[name][0] : claims[name];
    if (value !== undefined && value !== null && value !== '') return String(value);
  }
  return undefined;
}

// The claims rendered like .NET's Claim.ToString(), "type: value", one item
// per array element, joined by ", " (X-ASRS-User-Claims; docs/trigger.md).
function claimsHeader(claims) {
  const items = [];
  for (const [type, value] of Object.entries(claims)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      items.push(`${type}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
    }
  }
  return items.join(', ');
}

module.exports = { verify, verifyRs256, signRs256, header, userId, claimsHeader, TokenError, CLOCK_SKEW };
