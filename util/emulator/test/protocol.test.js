'use strict';
// Hub protocol encodings, checked against fixed vectors (the byte layouts of
// the SignalR hub protocol specification of dotnet/aspnetcore) and the
// encodings of @microsoft/signalr's own protocol classes.

const test = require('node:test');
const assert = require('node:assert/strict');
const { protocols, parseHandshake, handshakeResponse, ProtocolError, MessageType } = require('../protocol');
const { MessagePackHubProtocol } = require('@microsoft/signalr-protocol-msgpack');
const { JsonHubProtocol, NullLogger } = require('@microsoft/signalr');
const { Upstream } = require('../upstream');
const { KEY } = require('./helpers');

const { json, messagepack } = protocols;
const hex = (b) => Buffer.from(b).toString('hex');
const fromHex = (h) => Buffer.from(h, 'hex');

// hub protocol vectors
const V = {
  jsonInvocationUpstream: '{"type":1,"invocationId":"0","target":"broadcast","arguments":["hello"]}',
  msgpackInvocationUpstream: '960180a130a962726f61646361737491a568656c6c6f90',
  jsonCompletionResult: '{"type":3,"invocationId":"0","result":"ok"}\x1e',
  msgpackCompletionResult: '09950380a13003a26f6b',
  msgpackCompletionError: '0b950380a13001a4626f6f6d',
  msgpackCompletionVoid: '06940380a13002',
};

// What @microsoft/signalr clients put on the wire for invoke("broadcast", "hello").
const clientInvocation = { type: 1, invocationId: '0', target: 'broadcast', arguments: ['hello'] }; // no streamIds, as HubConnection sends it
const jsonFromClient = () => Buffer.from(new JsonHubProtocol().writeMessage(clientInvocation));
const msgpackFromClient = () => Buffer.from(new MessagePackHubProtocol().writeMessage(clientInvocation));

test('JSON: a client invocation becomes the upstream body of the vector', () => {
  const { messages, rest } = json.parse(jsonFromClient());
  assert.equal(rest.length, 0);
  assert.equal(json.upstreamBody(messages[0]).toString(), V.jsonInvocationUpstream);
});

test('JSON: an invocation without id has no invocationId member', () => {
  const { messages } = json.parse(Buffer.from('{"arguments":[1],"target":"t","type":1}\x1e'));
  assert.equal(json.upstreamBody(messages[0]).toString(), '{"type":1,"target":"t","arguments":[1]}');
});

test('MessagePack: a client invocation becomes the upstream body of the vector', () => {
  const { messages, rest } = messagepack.parse(msgpackFromClient());
  assert.equal(rest.length, 0);
  assert.equal(hex(messagepack.upstreamBody(messages[0])), V.msgpackInvocationUpstream);
});

test('MessagePack: argument bytes are forwarded as the client encoded them', () => {
  // [1, {}, "7", "t", [1.0 as float64, uint64 2^63], ["s"]]: re-encoding would
  // turn the float into an int and lose the uint64's precision.
  const payload = '9601' + '80' + 'a137' + 'a174' + '92' + 'cb3ff0000000000000' + 'cf8000000000000000' + '91a173';
  const framed = Buffer.concat([Buffer.from([payload.length / 2]), fromHex(payload)]);
  const { messages } = messagepack.parse(framed);
  assert.equal(messages[0].invocationId, '7');
  assert.equal(hex(messagepack.upstreamBody(messages[0])), payload);
});

test('MessagePack: completions match the vectors', () => {
  assert.equal(hex(messagepack.write({ type: 3, invocationId: '0', result: 'ok' })), V.msgpackCompletionResult);
  assert.equal(hex(messagepack.write({ type: 3, invocationId: '0', error: 'boom' })), V.msgpackCompletionError);
  assert.equal(hex(messagepack.write({ type: 3, invocationId: '0' })), V.msgpackCompletionVoid);
});

test('completions from clients parse (the vectors and @microsoft/signalr\'s own)', () => {
  const first = (protocol, bytes) => {
    const { messages, rest } = protocol.parse(Buffer.from(bytes));
    assert.equal(rest.length, 0);
    assert.equal(messages.length, 1);
    return messages[0];
  };
  assert.deepEqual(first(messagepack, fromHex(V.msgpackCompletionResult)), { type: 3, headers: {}, invocationId: '0', result: 'ok' });
  assert.deepEqual(first(messagepack, fromHex(V.msgpackCompletionError)), { type: 3, headers: {}, invocationId: '0', error: 'boom' });
  assert.deepEqual(first(messagepack, fromHex(V.msgpackCompletionVoid)), { type: 3, headers: {}, invocationId: '0' });
  assert.deepEqual(first(json, V.jsonCompletionResult), { type: 3, invocationId: '0', result: 'ok' });
  assert.deepEqual(first(json, '{"type":3,"invocationId":"0","error":null,"result":1}\x1e'), { type: 3, invocationId: '0', result: 1 });
  for (const message of [
    { type: 3, invocationId: '4', result: { a: [1, null] } },
    { type: 3, invocationId: '5', result: null },
    { type: 3, invocationId: '6', error: 'Error: boom' },
  ]) {
    const bytes = new MessagePackHubProtocol().writeMessage(message);
    assert.deepEqual(first(messagepack, bytes), { headers: {}, ...message });
    assert.deepEqual(first(json, new JsonHubProtocol().writeMessage(message)), message);
  }
});

test('JSON: completion, ping and close', () => {
  assert.equal(json.write({ type: 3, invocationId: '0', result: 'ok' }).toString(), V.jsonCompletionResult);
  assert.equal(json.write({ type: 3, invocationId: '0' }).toString(), '{"type":3,"invocationId":"0"}\x1e');
  assert.equal(json.write({ type: 3, invocationId: '0', error: 'e' }).toString(), '{"type":3,"invocationId":"0","error":"e"}\x1e');
  assert.equal(json.write({ type: 6 }).toString(), '{"type":6}\x1e');
  assert.equal(json.write({ type: 7 }).toString(), '{"type":7}\x1e');
  assert.equal(json.write({ type: 7, error: 'bye' }).toString(), '{"type":7,"error":"bye"}\x1e');
});

test('MessagePack: ping and close', () => {
  assert.equal(hex(messagepack.write({ type: 6 })), '029106');
  assert.equal(hex(messagepack.write({ type: 7, error: 'bye' })), '0793' + '07' + 'a3627965' + 'c2');
});

test('invocations sent to clients parse with @microsoft/signalr', () => {
  const message = { type: MessageType.Invocation, target: 'msg', arguments: ['x', 1, { a: [true, null] }] };
  const fromJson = new JsonHubProtocol().parseMessages(json.write(message).toString(), NullLogger.instance);
  assert.deepEqual(fromJson, [message]);
  const bytes = messagepack.write(message);
  const fromMsgpack = new MessagePackHubProtocol().parseMessages(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), NullLogger.instance);
  assert.deepEqual(fromMsgpack, [{ ...message, headers: {}, streamIds: [] }]);
});

test('MessagePack: VarInt length prefix of a 200-byte message', () => {
  // 9 bytes of [1, {}, nil, "t", [str8 header]] + 191 characters
  const bytes = messagepack.write({ type: 1, target: 't', arguments: ['x'.repeat(191)] });
  assert.equal(bytes.length - 2, 200);
  assert.equal(hex(bytes.subarray(0, 2)), 'c801');
});

test('parsers keep incomplete messages for the next frame', () => {
  const j = jsonFromClient();
  let r = json.parse(Buffer.concat([j, j.subarray(0, 10)]));
  assert.equal(r.messages.length, 1);
  assert.equal(hex(r.rest), hex(j.subarray(0, 10)));
  const m = msgpackFromClient();
  r = messagepack.parse(Buffer.concat([m, m.subarray(0, 5)]));
  assert.equal(r.messages.length, 1);
  assert.equal(hex(r.rest), hex(m.subarray(0, 5)));
  assert.equal(messagepack.parse(fromHex('c8')).messages.length, 0);
});

test('invalid messages are protocol errors', () => {
  const bad = [
    () => json.parse(Buffer.from('nope\x1e')),
    () => json.parse(Buffer.from('{"type":"1"}\x1e')),
    () => json.parse(Buffer.from('{"type":1,"target":"t"}\x1e')),
    () => json.parse(Buffer.from('{"type":1,"target":"t","arguments":[],"invocationId":1}\x1e')),
    () => messagepack.parse(fromHex('0180')),               // not an array
    () => messagepack.parse(fromHex('039401a174')),         // truncated array
    () => messagepack.parse(fromHex('05940180c0a174')),     // invocation with 4 elements
    () => messagepack.parse(fromHex('ffffffffff01')),       // length prefix too long
    () => json.parse(Buffer.from('{"type":3,"result":1}\x1e')),              // completion without id
    () => json.parse(Buffer.from('{"type":3,"invocationId":"1","error":{}}\x1e')),
    () => messagepack.parse(fromHex('06940380a13003')),     // result kind without the result
    () => messagepack.parse(fromHex('07950380a130020a')),   // void with a result
    () => messagepack.parse(fromHex('059403800102')),       // id not a string
  ];
  for (const run of bad) assert.throws(run, ProtocolError);
});

test('handshake request and responses', () => {
  assert.equal(parseHandshake(Buffer.from('{"protocol":"json"')), null);
  const parsed = parseHandshake(Buffer.concat([Buffer.from('{"protocol":"messagepack","version":1}\x1e'), fromHex('029106')]));
  assert.deepEqual(parsed.request, { protocol: 'messagepack', version: 1 });
  assert.equal(hex(parsed.rest), '029106');
  assert.throws(() => parseHandshake(Buffer.from('{"protocol":1}\x1e')), ProtocolError);
  assert.equal(handshakeResponse().toString(), '{}\x1e');
  assert.equal(handshakeResponse('no').toString(), '{"error":"no"}\x1e');
});

test('upstream signature: sha256=<upper-case hex> per key, joined by ","', () => {
  const id = '0f9c97a2f0bf4706afe87a14e0797b11'; // the upstream signature vector
  const sign = (keys) => new Upstream({ template: 'http://x/', keys }).signature(id);
  assert.equal(sign([KEY]), 'sha256=8805D739A12D46F22BCB15382A8C1C2BF38AE8F04566017BD613D5EF47CAFE2C');
  assert.equal(sign(['7aab239577fd4f24bc919802fb629f5f', 'a5f2815d0d0c4b00bd27e832432f91ab']),
    'sha256=7767EFFCB3946F3E1DE039DF4B986EF02C110B1469D02C0A06F41B3B727AB561,' +
    'sha256=D4AEFB65547A00A9881FA8AC8BD03D0FAF77AF9DA5205D45C6E57CBDA4377760');
});

test('upstream URL: placeholders replaced with Uri.EscapeDataString', () => {
  const u = new Upstream({ template: 'http://h/api/{hub}/{category}/{event}?e={event}', keys: [] });
  assert.equal(u.url('chat', 'messages', "say hi/(now)!*'"), "http://h/api/chat/messages/say%20hi%2F%28now%29%21%2A%27?e=say%20hi%2F%28now%29%21%2A%27");
});
