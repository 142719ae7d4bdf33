'use strict';
// SignalR hub protocols (JSON and MessagePack) as the service speaks them to
// clients, and the unframed message bodies it posts upstream.
// Spec: dotnet/aspnetcore src/SignalR/docs/specs/HubProtocol.md.

const msgpack = require('@msgpack/msgpack');

const RECORD_SEPARATOR = 0x1e;

const MessageType = Object.freeze({
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
});

class ProtocolError extends Error {}

// ---- handshake ---------------------------------------------------------

// Splits the handshake request off the first bytes a client sends.
// Returns null while the record separator has not arrived yet, otherwise
// { request: {protocol, version}, rest: Buffer }. Throws ProtocolError.
function parseHandshake(buf) {
  const end = buf.indexOf(RECORD_SEPARATOR);
  if (end === -1) return null;
  let request;
  try {
    request = JSON.parse(buf.subarray(0, end).toString('utf8'));
  } catch {
    throw new ProtocolError('Invalid handshake request.');
  }
  if (!isPlainObject(request) || typeof request.protocol !== 'string' ||
      !Number.isInteger(request.version)) {
    throw new ProtocolError('Invalid handshake request.');
  }
  return { request, rest: buf.subarray(end + 1) };
}

// Handshake responses are JSON whatever the protocol.
function handshakeResponse(error) {
  const body = error === undefined ? '{}' : JSON.stringify({ error });
  return Buffer.from(body + '\x1e', 'utf8');
}

// ---- JSON ----------------------------------------------------------------

const json = {
  name: 'json',
  binary: false,
  contentType: 'application/json',

  // Splits complete messages off buf: { messages, rest }.
  parse(buf) {
    const messages = [];
    let start = 0;
    let end;
    while ((end = buf.indexOf(RECORD_SEPARATOR, start)) !== -1) {
      messages.push(parseJsonMessage(buf.subarray(start, end)));
      start = end + 1;
    }
    return { messages, rest: buf.subarray(start) };
  },

  write(message) {
    return Buffer.from(JSON.stringify(jsonShape(message)) + '\x1e', 'utf8');
  },

  // An Invocation as posted upstream: one message, no record separator,
  // members in the order of ASP.NET Core's JsonHubProtocol writer.
  upstreamBody(message) {
    return Buffer.from(JSON.stringify(jsonShape(message)), 'utf8');
  },
};

function parseJsonMessage(bytes) {
  let m;
  try {
    m = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ProtocolError('Invalid JSON hub message.');
  }
  if (!isPlainObject(m) || !Number.isInteger(m.type)) {
    throw new ProtocolError('Hub message without an integer "type".');
  }
  if (m.type === MessageType.Invocation || m.type === MessageType.StreamInvocation) {
    if (typeof m.target !== 'string') throw new ProtocolError('Invocation without a string "target".');
    if (!Array.isArray(m.arguments)) throw new ProtocolError('Invocation without an "arguments" array.');
    if (m.invocationId !== undefined && typeof m.invocationId !== 'string') {
      throw new ProtocolError('Invocation with a non-string "invocationId".');
    }
    if (m.headers !== undefined && !isPlainObject(m.headers)) {
      throw new ProtocolError('Invocation with invalid "headers".');
    }
  }
  if (m.type === MessageType.Completion) {
    if (typeof m.invocationId !== 'string') throw new ProtocolError('Completion without a string "invocationId".');
    if (m.error != null && typeof m.error !== 'string') throw new ProtocolError('Completion with a non-string "error".');
    if (m.error === null) delete m.error;
  }
  return m;
}

// Orders the members as ASP.NET Core writes them and drops absent ones.
function jsonShape(m) {
  const out = { type: m.type };
  if (m.headers && Object.keys(m.headers).length > 0) out.headers = m.headers;
  switch (m.type) {
    case MessageType.Invocation:
      if (m.invocationId != null) out.invocationId = m.invocationId;
      out.target = m.target;
      out.arguments = m.arguments;
      if (m.streamIds && m.streamIds.length > 0) out.streamIds = m.streamIds;
      break;
    case MessageType.Completion:
      out.invocationId = m.invocationId;
      if (m.error !== undefined) out.error = m.error;
      else if (m.result !== undefined) out.result = m.result;
      break;
    case MessageType.Close:
      if (m.error != null) out.error = m.error;
      if (m.allowReconnect) out.allowReconnect = true;
      break;
    case MessageType.Ping:
      break;
    default:
      throw new Error(`cannot write hub message type ${m.type}`);
  }
  return out;
}

// ---- MessagePack -----------------------------------------------------------

const COMPLETION_ERROR = 1;
const COMPLETION_VOID = 2;
const COMPLETION_RESULT = 3;

const messagepack = {
  name: 'messagepack',
  binary: true,
  contentType: 'application/x-msgpack',

  // Splits complete VarInt-framed messages off buf: { messages, rest }.
  // Each Invocation keeps the raw bytes of its array elements (`raw`) so
  // that it can be forwarded upstream without re-encoding the arguments.
  parse(buf) {
    const messages = [];
    let pos = 0;
    for (;;) {
      const frame = readFrame(buf, pos);
      if (frame === null) break;
      messages.push(parseMsgpackMessage(buf.subarray(frame.start, frame.end)));
      pos = frame.end;
    }
    return { messages, rest: buf.subarray(pos) };
  },

  write(message) {
    return frame(Buffer.from(msgpack.encode(msgpackShape(message))));
  },

  // An Invocation as posted upstream: [1, headers, id, target, args,
  // streamIds] with no length prefix. Elements 1..4 are the client's own
  // bytes; streamIds is [] when the client sent none.
  upstreamBody(message) {
    const raw = message.raw;
    return Buffer.concat([
      Buffer.from([0x96, MessageType.Invocation]),
      raw[1], raw[2], raw[3], raw[4],
      raw.length > 5 ? raw[5] : Buffer.from([0x90]),
    ]);
  },
};

function msgpackShape(m) {
  switch (m.type) {
    case MessageType.Invocation:
      return [m.type, m.headers || {}, m.invocationId ?? null, m.target, m.arguments];
    case MessageType.Completion:
      if (m.error !== undefined) return [m.type, m.headers || {}, m.invocationId, COMPLETION_ERROR, m.error];
      if (m.result !== undefined) return [m.type, m.headers || {}, m.invocationId, COMPLETION_RESULT, m.result];
      return [m.type, m.headers || {}, m.invocationId, COMPLETION_VOID];
    case MessageType.Ping:
      return [m.type];
    case MessageType.Close:
      return [m.type, m.error ?? null, Boolean(m.allowReconnect)];
    default:
      throw new Error(`cannot write hub message type ${m.type}`);
  }
}

function parseMsgpackMessage(bytes) {
  let raw;
  let values;
  try {
    raw = splitArray(bytes);
    values = raw.map((element) => msgpack.decode(element));
  } catch (e) {
    throw new ProtocolError(`Invalid MessagePack hub message: ${e.message}`);
  }
  const type = values[0];
  if (!Number.isInteger(type)) throw new ProtocolError('Hub message without an integer type.');
  if (type === MessageType.Completion) return msgpackCompletion(values);
  if (type !== MessageType.Invocation && type !== MessageType.StreamInvocation) return { type };
  const [, headers, invocationId, target, args, streamIds] = values;
  if (values.length < 5 || !isPlainObject(headers) || typeof target !== 'string' ||
      !Array.isArray(args) || (invocationId !== null && typeof invocationId !== 'string')) {
    throw new ProtocolError('Invalid MessagePack Invocation.');
  }
  const m = { type, headers, target, arguments: args, raw };
  if (invocationId !== null) m.invocationId = invocationId;
  if (Array.isArray(streamIds)) m.streamIds = streamIds;
  return m;
}

// [3, headers, invocationId, resultKind, result?]: 1 = error (a string),
// 2 = void, 3 = result.
function msgpackCompletion(values) {
  const [type, headers, invocationId, kind, value] = values;
  const expected = { [COMPLETION_ERROR]: 5, [COMPLETION_VOID]: 4, [COMPLETION_RESULT]: 5 }[kind];
  if (!isPlainObject(headers) || typeof invocationId !== 'string' || values.length !== expected ||
      (kind === COMPLETION_ERROR && typeof value !== 'string')) {
    throw new ProtocolError('Invalid MessagePack Completion.');
  }
  const m = { type, headers, invocationId };
  if (kind === COMPLETION_ERROR) m.error = value;
  else if (kind === COMPLETION_RESULT) m.result = value;
  return m;
}

// VarInt length prefix: 7 bits per byte, least significant group first,
// high bit set on every byte but the last; at most 5 bytes.
function frame(payload) {
  const prefix = [];
  let n = payload.length;
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    prefix.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from(prefix), payload]);
}

// Returns {start, end} of the framed message at pos, or null if incomplete.
function readFrame(buf, pos) {
  let length = 0;
  for (let i = 0; i < 5; i++) {
    if (pos + i >= buf.length) return null;
    const b = buf[pos + i];
    length += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (length > 0x7fffffff) throw new ProtocolError('Message length exceeds 2 GiB.');
      const start = pos + i + 1;
      return start + length <= buf.length ? { start, end: start + length } : null;
    }
  }
  throw new ProtocolError('Message length prefix longer than 5 bytes.');
}

// The raw bytes of each element of the MessagePack array that is `bytes`.
function splitArray(bytes) {
  const b = bytes[0];
  let count;
  let pos;
  if (b >= 0x90 && b <= 0x9f) { count = b & 0x0f; pos = 1; }
  else if (b === 0xdc) { count = bytes.readUInt16BE(1); pos = 3; }
  else if (b === 0xdd) { count = bytes.readUInt32BE(1); pos = 5; }
  else throw new Error('not an array');
  if (count === 0) throw new Error('empty array');
  const elements = [];
  for (let i = 0; i < count; i++) {
    const end = skip(bytes, pos);
    elements.push(bytes.subarray(pos, end));
    pos = end;
  }
  if (pos !== bytes.length) throw new Error('trailing bytes');
  return elements;
}

// Returns the offset just past the MessagePack value starting at p.
function skip(b, p) {
  const t = b[p];
  let end;
  if (t === undefined) throw new Error('truncated');
  if (t <= 0x7f || t >= 0xe0) end = p + 1;                       // fixint
  else if (t <= 0x8f) end = skipValues(b, p + 1, (t & 0x0f) * 2); // fixmap
  else if (t <= 0x9f) end = skipValues(b, p + 1, t & 0x0f);       // fixarray
  else if (t <= 0xbf) end = p + 1 + (t & 0x1f);                   // fixstr
  else {
    switch (t) {
      case 0xc0: case 0xc2: case 0xc3: end = p + 1; break;          // nil, false, true
      case 0xc4: case 0xd9: end = p + 2 + b.readUInt8(p + 1); break;  // bin8, str8
      case 0xc5: case 0xda: end = p + 3 + b.readUInt16BE(p + 1); break;
      case 0xc6: case 0xdb: end = p + 5 + b.readUInt32BE(p + 1); break;
      case 0xc7: end = p + 3 + b.readUInt8(p + 1); break;             // ext8
      case 0xc8: end = p + 4 + b.readUInt16BE(p + 1); break;
      case 0xc9: end = p + 6 + b.readUInt32BE(p + 1); break;
      case 0xcc: case 0xd0: end = p + 2; break;
      case 0xcd: case 0xd1: end = p + 3; break;
      case 0xca: case 0xce: case 0xd2: end = p + 5; break;
      case 0xcb: case 0xcf: case 0xd3: end = p + 9; break;
      case 0xd4: end = p + 3; break;                                  // fixext 1..16
      case 0xd5: end = p + 4; break;
      case 0xd6: end = p + 6; break;
      case 0xd7: end = p + 10; break;
      case 0xd8: end = p + 18; break;
      case 0xdc: end = skipValues(b, p + 3, b.readUInt16BE(p + 1)); break;
      case 0xdd: end = skipValues(b, p + 5, b.readUInt32BE(p + 1)); break;
      case 0xde: end = skipValues(b, p + 3, 2 * b.readUInt16BE(p + 1)); break;
      case 0xdf: end = skipValues(b, p + 5, 2 * b.readUInt32BE(p + 1)); break;
      default: throw new Error(`invalid type byte 0x${t.toString(16)}`);
    }
  }
  if (end > b.length) throw new Error('truncated');
  return end;
}

function skipValues(b, p, n) {
  for (let i = 0; i < n; i++) p = skip(b, p);
  return p;
}

function isPlainObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const protocols = { json, messagepack };

module.exports = {
  MessageType,
  ProtocolError,
  parseHandshake,
  handshakeResponse,
  protocols,
};
