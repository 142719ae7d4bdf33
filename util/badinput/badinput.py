#!/usr/bin/env python3
"""make badinput: generated bad input for the three locations of the module.

Builds COUNT requests (plus the truncations of a few valid bodies at every
position) from a seeded PRNG, sends each raw on its own connection
(Connection: close) to the nginx of util/badinput/nginx.conf.in, and
records every status. Any 5xx, a request that got no answer, or one whose
connection nginx did not close within the timeout, is saved (the raw
request and what came back) under OUT/5xx/, OUT/noanswer/ or
OUT/unfinished/. A trigger request whose route answered 5xx (the trigger
answers it 200 or 403, "Invocation failed."; nginx's error log says
'signalr: route "..." answered 5xx to ...', at error) is saved under
OUT/route5xx/: each trigger request carries its index in its query string
(?badinput=N, which the trigger ignores), found again in the error log
(--error-log). No request is started after --deadline seconds, nor after
--max-unfinished requests got no answer or were left unfinished. Exit
status: 0 when every request was sent, answered < 500 and finished, and no
route answered 5xx; 1 otherwise.

Standard library only. Usage:
  badinput.py --port 8741 --seed 1234 --count 4000 --out build/badinput \
      --error-log build/badinput/logs/error.log
"""

import argparse
import collections
import hashlib
import hmac
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

# the AccessKey of the endpoint "east" of nginx.conf.in: upstream calls
# signed with it pass the trigger's authentication
KEY = b'7aab239577fd4f24bc919802fb629f5f'
CID = b'0f9c97a2f0bf4706afe87a14e0797b11'


def sign(cid):
    return b'sha256=' + hmac.new(KEY, cid, hashlib.sha256).hexdigest().encode()


# ---- JSON written by hand: duplicate keys, raw bytes, any number text ------

class Raw(bytes):
    """JSON text inserted as it is"""


class Obj(list):
    """a JSON object as (key, value) pairs: keys may repeat"""


def jenc(v):
    if isinstance(v, Raw):
        return bytes(v)
    if v is None:
        return b'null'
    if v is True:
        return b'true'
    if v is False:
        return b'false'
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, float):
        return repr(v).encode()
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False).encode('utf-8', 'surrogatepass')
    if isinstance(v, bytes):
        # a string with these raw bytes inside the quotes
        return b'"' + v + b'"'
    if isinstance(v, (list, tuple)) and not isinstance(v, Obj):
        return b'[' + b','.join(jenc(x) for x in v) + b']'
    if isinstance(v, (dict, Obj)):
        items = v.items() if isinstance(v, dict) else v
        return b'{' + b','.join(jenc(k) + b':' + jenc(x) for k, x in items) + b'}'
    raise TypeError(type(v))


# ---- MessagePack written by hand: any encoding width, raw bytes ------------

class MRaw(bytes):
    """MessagePack bytes inserted as they are"""


def menc(v, r):
    """v as MessagePack; r (a Random) picks wider encodings now and then"""
    wide = r.random() < 0.2
    if isinstance(v, MRaw):
        return bytes(v)
    if v is None:
        return b'\xc0'
    if v is True:
        return b'\xc3'
    if v is False:
        return b'\xc2'
    if isinstance(v, int):
        if 0 <= v < 128 and not wide:
            return bytes([v])
        if -32 <= v < 0 and not wide:
            return struct.pack('b', v)
        if 0 <= v < 2**8 and not wide:
            return b'\xcc' + struct.pack('>B', v)
        if 0 <= v < 2**16 and not wide:
            return b'\xcd' + struct.pack('>H', v)
        if 0 <= v < 2**32 and not wide:
            return b'\xce' + struct.pack('>I', v)
        if 0 <= v < 2**64:
            return b'\xcf' + struct.pack('>Q', v)
        if -2**7 <= v < 0 and not wide:
            return b'\xd0' + struct.pack('>b', v)
        if -2**15 <= v < 0 and not wide:
            return b'\xd1' + struct.pack('>h', v)
        if -2**31 <= v < 0 and not wide:
            return b'\xd2' + struct.pack('>i', v)
        if -2**63 <= v < 0:
            return b'\xd3' + struct.pack('>q', v)
        return b'\xcb' + struct.pack('>d', float(v))
    if isinstance(v, float):
        if wide and abs(v) < 3e38:
            return b'\xca' + struct.pack('>f', v)
        return b'\xcb' + struct.pack('>d', v)
    if isinstance(v, str):
        b = v.encode('utf-8', 'surrogatepass')
        return mstr(b, wide)
    if isinstance(v, bytes):
        n = len(b := v)
        if n < 2**8 and not wide:
            return b'\xc4' + bytes([n]) + b
        if n < 2**16 and not wide:
            return b'\xc5' + struct.pack('>H', n) + b
        return b'\xc6' + struct.pack('>I', n) + b
    if isinstance(v, (list, tuple)) and not isinstance(v, Obj):
        n = len(v)
        body = b''.join(menc(x, r) for x in v)
        if n < 16 and not wide:
            return bytes([0x90 | n]) + body
        if n < 2**16 and not wide:
            return b'\xdc' + struct.pack('>H', n) + body
        return b'\xdd' + struct.pack('>I', n) + body
    if isinstance(v, (dict, Obj)):
        items = list(v.items() if isinstance(v, dict) else v)
        n = len(items)
        body = b''.join(menc(k, r) + menc(x, r) for k, x in items)
        if n < 16 and not wide:
            return bytes([0x80 | n]) + body
        if n < 2**16 and not wide:
            return b'\xde' + struct.pack('>H', n) + body
        return b'\xdf' + struct.pack('>I', n) + body
    raise TypeError(type(v))


def mstr(b, wide=False):
    n = len(b)
    if n < 32 and not wide:
        return bytes([0xa0 | n]) + b
    if n < 2**8 and not wide:
        return b'\xd9' + bytes([n]) + b
    if n < 2**16 and not wide:
        return b'\xda' + struct.pack('>H', n) + b
    return b'\xdb' + struct.pack('>I', n) + b


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


# ---- the generator ---------------------------------------------------------

# bytes that break parsers: NUL, quotes, escapes, structure, invalid UTF-8
# (lone continuation, overlong, surrogate, beyond U+10FFFF, truncated)
NASTY = [b'\x00', b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'\xff',
         b'\x80', b'\xc0\xaf', b'\xe0\x80\xaf', b'\xed\xa0\x80',
         b'\xf4\x90\x80\x80', b'\xf8\x88\x80\x80\x80', b'\xc3', b'\xe2\x82',
         b'\\u', b'\\ud800', b'\\udc00', b'\\u0000', b'\\x41', b'\x1e',
         b'\r\n', b'%', b'%00', b'%zz', b'\t', b' ', b'/', b'..', b'\x7f']

HUGE_NUMBERS = [b'1e999999', b'-1e999999', b'123456789012345678901234567890',
                b'18446744073709551616', b'18446744073709551615',
                b'9223372036854775808', b'-9223372036854775809',
                b'4294967296', b'2147483648', b'-2147483649', b'1e-400',
                b'-0', b'0.000000000000000000000000000001', b'1E+308',
                b'1.7976931348623157e309', b'4.9e-325', b'00', b'01', b'1.',
                b'.5', b'+1', b'0x10', b'NaN', b'Infinity', b'-Infinity',
                b'1' * 400, b'9' * 5000 + b'.5e-99999']

BAD_STRINGS = [Raw(b'"\\ud800"'), Raw(b'"\\udfff\\ud800"'),
               Raw(b'"a\\u0000b"'), Raw(b'"\\uD83D\\uDE00"'),
               Raw(b'"\\uDE00\\uD83D"'), Raw(b'"\\u12"'), Raw(b'"\\q"'),
               b'\xff\xfe', b'\xc0\xaf', b'\xed\xa0\x80', b'a\x00b',
               b'\xf4\x90\x80\x80', b'\x01\x02\x1f', Raw(b'"unterminated'),
               '', ' ', '\u00e9\u4e2d\U0001f600', 'a/b', '../..', '%2e%2e',
               '?#', 'a b', '\t', 'x' * 1025, 'y' * 70000, '.', '..']


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    # -- values ---------------------------------------------------------------

    def text(self, lo=0, hi=16, alphabet='abcdefghijklmnopqrstuvwxyz0123456789'):
        r = self.r
        return ''.join(r.choice(alphabet) for _ in range(r.randint(lo, hi)))

    def rbytes(self, lo=0, hi=32):
        r = self.r
        return bytes(r.randrange(256) for _ in range(r.randint(lo, hi)))

    def scalar(self):
        r = self.r
        k = r.randrange(12)
        if k == 0:
            return None
        if k == 1:
            return r.choice([True, False])
        if k == 2:
            return r.randint(-2**70, 2**70)
        if k == 3:
            return r.uniform(-1e300, 1e300)
        if k == 4:
            return Raw(r.choice(HUGE_NUMBERS))
        if k == 5:
            return r.choice(BAD_STRINGS)
        if k == 6:
            return self.rbytes(0, 16)
        if k == 7:
            return ''.join(chr(r.choice([r.randrange(32, 127),
                                         r.randrange(0x80, 0xd800),
                                         r.randrange(0xe000, 0x110000)]))
                           for _ in range(r.randint(0, 12)))
        return self.text()

    def clean_scalar(self):
        """a valid value, for bodies that should reach the routes"""
        r = self.r
        k = r.randrange(8)
        if k == 0:
            return r.choice([None, True, False])
        if k == 1:
            return r.choice([0, -1, 2**53, 2**63 - 1, -2**63, 2**64 - 1,
                             r.randint(-2**64, 2**64)])
        if k == 2:
            return r.choice([0.1, -0.0, 1e308, 5e-324, r.uniform(-1e9, 1e9)])
        if k == 3:
            return ''.join(chr(r.choice([r.randrange(0, 0x80), r.randrange(0x80, 0xd800),
                                         r.randrange(0xe000, 0x110000)]))
                           for _ in range(r.randint(0, 12)))
        if k == 4:
            return 'l' * r.choice([100, 5000, 70000])
        return self.text()

    def value(self, depth=0, clean=False):
        r = self.r
        k = r.randrange(10)
        if depth > 6 or k < 6:
            return self.clean_scalar() if clean else self.scalar()
        if k < 8:
            return [self.value(depth + 1, clean) for _ in range(r.randint(0, 5))]
        return Obj((r.choice([self.text(0, 8), 'type', 'target', '', 'a']),
                    self.value(depth + 1, clean)) for _ in range(r.randint(0, 5)))

    def wrong(self):
        """a value of a random type, for any member"""
        r = self.r
        return r.choice([None, True, 0, -1, 1.5, Raw(r.choice(HUGE_NUMBERS)),
                         '', 'x', [], {}, [1, 'a'], {'a': 1}, r.choice(BAD_STRINGS),
                         Raw(b'[' * 50 + b']' * 50), self.value()])

    def deep(self, n=None):
        r = self.r
        n = n or r.choice([64, 65, 128, 2048, 2049, 10000, 100000])
        o, c = r.choice([(b'[', b']'), (b'{"a":', b'}'), (b'[{"a":', b'}]')])
        inner = r.choice([b'', b'1', b'"x"', b'null'])
        if o == b'{"a":' and inner == b'':
            inner = b'1'
        closed = r.random() < 0.7
        return Raw(o * n + inner + (c * n if closed else b''))

    # -- byte mutations -----------------------------------------------------------

    def mutate_bytes(self, b):
        r = self.r
        b = bytearray(b)
        for _ in range(r.randint(1, 4)):
            op = r.randrange(8)
            p = r.randint(0, len(b)) if b else 0
            if op == 0 and b:                      # bit flips
                for _ in range(r.randint(1, 8)):
                    i = r.randrange(len(b))
                    b[i] ^= 1 << r.randrange(8)
            elif op == 1:                          # insert nasty bytes
                b[p:p] = r.choice(NASTY)
            elif op == 2 and b:                    # delete a range
                b[p:p + r.randint(1, 8)] = b''
            elif op == 3 and b:                    # duplicate a range
                q = r.randint(p, min(len(b), p + 32))
                b[p:p] = b[p:q] * r.randint(1, 50)
            elif op == 4:                          # truncate
                del b[p:]
            elif op == 5 and b:                    # random byte
                b[r.randrange(len(b))] = r.randrange(256)
            elif op == 6:                          # random bytes
                b[p:p] = self.rbytes(1, 16)
            else:                                  # a number or a string
                b[p:p] = r.choice(HUGE_NUMBERS + [b'"\\ud800"', b'"\xff"'])
        return bytes(b)

    def mutate_obj(self, obj, required=()):
        """structured mutations of one JSON object given as a dict"""
        r = self.r
        pairs = Obj(obj.items())
        for _ in range(r.randint(1, 3)):
            op = r.randrange(7)
            if op == 0 and pairs:                  # a member of a wrong type
                i = r.randrange(len(pairs))
                pairs[i] = (pairs[i][0], self.wrong())
            elif op == 1 and pairs:                # duplicate a key
                k, _ = r.choice(pairs)
                pairs.insert(r.randint(0, len(pairs)), (k, self.wrong()))
            elif op == 2 and pairs:                # drop a member
                del pairs[r.randrange(len(pairs))]
            elif op == 3:                          # an unknown or odd key
                pairs.append((r.choice(['', 'x', 'Target', 'TARGET', 'userid',
                                        'a' * 300, Raw(b'"\\u0000"'),
                                        b'\xff', Raw(b'"\\ud800"')]),
                              self.value()))
            elif op == 4 and pairs:                # a key's case
                i = r.randrange(len(pairs))
                k = pairs[i][0]
                if isinstance(k, str):
                    pairs[i] = (k.upper() if r.random() < 0.5 else k.swapcase(),
                                pairs[i][1])
            elif op == 5 and pairs:                # deep nesting in a member
                i = r.randrange(len(pairs))
                pairs[i] = (pairs[i][0], self.deep())
            elif op == 6 and pairs:                # an overlong string
                i = r.randrange(len(pairs))
                pairs[i] = (pairs[i][0], 'z' * r.choice([1024, 1025, 4096,
                                                         65536, 300000]))
        return pairs

    # -- headers ---------------------------------------------------------------

    def header_value(self):
        r = self.r
        k = r.randrange(8)
        if k == 0:
            return b''
        if k == 1:
            return b'v' * r.choice([4096, 8192, 16000])
        if k == 2:
            return bytes(r.randrange(0x80, 0x100) for _ in range(r.randint(1, 20)))
        if k == 3:
            return r.choice(NASTY).replace(b'\r\n', b'') + self.text().encode()
        if k == 4:
            return self.rbytes(1, 40).replace(b'\r', b'').replace(b'\n', b'').replace(b'\x00', b'')
        return self.text(1, 30, 'abcdefghijklmnopqrstuvwxyz0123456789-._~%+ ,:;=').encode()

    def query_string(self):
        """an X-ASRS-Client-Query: pairs, bad percent-encoding, thousands"""
        r = self.r
        k = r.randrange(6)
        if k == 0:
            return b'?hub=chat&id=abc%2Bdef&k=v+1&k=v2&empty=&flag'
        if k == 1:
            n = r.choice([255, 256, 257, 1000, 3000])
            return b'?' + b'&'.join(b'k%d=v' % i for i in range(n))
        if k == 2:
            n = r.choice([300, 2000])
            return b'?' + b'&'.join([b'a=1'] * n)
        parts = []
        for _ in range(r.randint(0, 20)):
            parts.append(r.choice([b'%', b'%G1', b'%C3%28', b'%ED%A0%80', b'%ff',
                                   b'%00', b'+', b'=', b'==', b'&', b'%2', b'a=%',
                                   b'%C3%A9=%E2%82%AC', b'k=\xff', b'\xc3\xa9=1',
                                   self.text().encode(), b'x=' + self.text().encode()]))
        return r.choice([b'?', b'', b'??']) + b'&'.join(parts)

    def claims(self):
        r = self.r
        k = r.randrange(5)
        if k == 0:
            return b'asrs.s.uid: alice, role: admin, role: ops, odd: a: b'
        if k == 1:
            n = r.choice([255, 256, 257, 2000])
            return b', '.join(b'c%d: v' % i for i in range(n))
        parts = []
        for _ in range(r.randint(0, 30)):
            parts.append(r.choice([b'a: b', b': ', b' : v', b'k: : v', b'k:', b'\xff: \xfe',
                                   b'\xc2\xa0r\xc2\xa0: \xc2\xa0x', b',,,', b'x' * 200 + b': y',
                                   self.text().encode() + b': ' + self.text().encode()]))
        return b', '.join(parts)

    # -- negotiate ---------------------------------------------------------------

    def negotiate(self):
        r = self.r
        method = r.choices([b'POST', b'GET', b'OPTIONS', b'HEAD', b'PUT', b'DELETE',
                            b'PATCH', b'FOO', b'G\x01T'],
                           [50, 25, 5, 4, 4, 3, 3, 3, 1])[0]
        path = r.choice([b'/api/negotiate', b'/hub/negotiate'])
        args = []
        for _ in range(r.randint(0, 4)):
            name = r.choice([b'user', b'hub', b'email', b'negotiateVersion', b'user',
                             b'hub', b'', b'x'])
            v = r.randrange(10)
            if v == 0:
                val = b''
            elif v == 1:
                val = bytes(r.randrange(0x80, 0x100) for _ in range(r.randint(1, 16)))
            elif v == 2:
                val = b'u' * r.choice([100, 1000, 3000, 5000, 20000, 60000])
            elif v == 3:
                val = r.choice([b'%', b'%zz', b'%00', b'%ff%fe', b'%C3%A9', b'a%2Fb',
                                b'\xc3\xa9', b'\xed\xa0\x80', b'\xf4\x90\x80\x80',
                                b'"', b'\\', b'<script>', b'a+b', b'chat', b'Chat',
                                b'chat' * 40, b'1chat', b'ch@t', b'c,h.a[t]`_'])
            else:
                val = self.text(0, 20).encode()
            args.append(name + (b'=' + val if r.random() < 0.9 else b''))
        target = path
        if args or r.random() < 0.2:
            target += b'?' + b'&'.join(args)
        headers = []
        if r.random() < 0.4:
            headers.append((b'X-Role', self.header_value()))
        if r.random() < 0.4:
            headers.append((b'X-User', self.header_value()))
        if r.random() < 0.2:
            headers.append((b'Cookie', b'name=' + self.header_value()))
        if r.random() < 0.1:
            headers += [(b'X-Role', self.header_value()) for _ in range(r.randint(2, 300))]
        if r.random() < 0.3:
            headers.append((b'Content-Type', r.choice([b'application/json', b'text/plain',
                                                       b'application/x-msgpack',
                                                       b'application/json; charset=latin1'])))
        body = b''
        if r.random() < 0.2:
            body = r.choice([self.rbytes(0, 200), b'{"a":1}', b'[' * 10000])
        return 'negotiate', method, target, headers, body

    # -- trigger -----------------------------------------------------------------

    def invocation_json(self, target, clean):
        r = self.r
        args = [self.value(clean=clean) for _ in range(r.randint(0, 4))]
        obj = {'type': 1, 'invocationId': str(r.randint(0, 999)),
               'target': target, 'arguments': args}
        if r.random() < 0.3:
            del obj['invocationId']
        if r.random() < 0.1:
            obj['streamIds'] = []
        if r.random() < 0.1:
            obj['headers'] = {'a': 'b'}
        return obj

    def trigger_json_body(self, category, event):
        r = self.r
        k = r.randrange(10)
        if category == 'connections':
            obj = r.choice([{'type': 10}, {'type': 11}, {'type': 11, 'error': 'x'},
                            {'type': 11, 'error': self.wrong()}, {'type': 1}])
        else:
            obj = self.invocation_json(event if r.random() < 0.9 else self.text(1, 10), k < 3)
        if k < 3:
            body = jenc(obj)
        elif k < 6:
            body = jenc(self.mutate_obj(obj))
        elif k < 8:
            body = self.mutate_bytes(jenc(obj))
        elif k == 8:
            body = jenc(self.deep())
        else:
            body = jenc(self.value())
        if r.random() < 0.15:
            body += b'\x1e'
        if r.random() < 0.05:
            body += body
        return body

    def invocation_mp(self, target, clean):
        r = self.r
        args = [self.value_mp(clean=clean) for _ in range(r.randint(0, 4))]
        msg = [1, {}, str(r.randint(0, 999)) if r.random() < 0.7 else None, target, args]
        if r.random() < 0.2:
            msg.append([])
        if r.random() < 0.1:
            msg[1] = {'h': 'v'}
        return msg

    def value_mp(self, depth=0, clean=False):
        """values MessagePack has and JSON has not: binary, ext, int keys"""
        r = self.r
        k = r.randrange(14)
        if k == 0:
            return self.rbytes(0, 40)
        if clean and k < 4 and depth < 5:
            if k == 1:
                return [self.value_mp(depth + 1, clean) for _ in range(r.randint(0, 5))]
            return {self.text(0, 6): self.value_mp(depth + 1, clean)
                    for _ in range(r.randint(0, 4))}
        if clean:
            return self.clean_scalar()
        if k == 1:
            return MRaw(r.choice([b'\xd4\x01\x00', b'\xd5\xff' + b'\x00' * 2,
                                  b'\xd6\xff\x00\x00\x00\x01',
                                  b'\xd7\xff' + b'\xff' * 8,
                                  b'\xc7\x0c\xff' + b'\x00' * 12,
                                  b'\xc7\x00\x05', b'\xc8\x00\x01\x07x',
                                  b'\xc9\x00\x00\x00\x00\x01', b'\xc1',
                                  b'\xca\x7f\xc0\x00\x00', b'\xcb\x7f\xf8' + b'\x00' * 6,
                                  b'\xcb\xff\xf0' + b'\x00' * 6,
                                  b'\xcf\xff\xff\xff\xff\xff\xff\xff\xff',
                                  b'\xd3\x80' + b'\x00' * 7,
                                  mstr(b'\xff\xfe'), mstr(b'\xed\xa0\x80'),
                                  mstr(b'a\x00b'), b'\x81\x01\x02', b'\x81\xc0\xc0',
                                  b'\x81\x90\x01', b'\x81\xc4\x01a\x01']))
        if k == 2 and depth < 5:
            return Obj((r.choice([self.text(0, 6), 1, None, b'k']),
                        self.value_mp(depth + 1)) for _ in range(r.randint(0, 4)))
        if k == 3 and depth < 5:
            return [self.value_mp(depth + 1) for _ in range(r.randint(0, 5))]
        v = self.scalar()
        if isinstance(v, Raw):
            return self.text()
        return v

    def trigger_mp_body(self, category, event):
        r = self.r
        k = r.randrange(12)
        if category == 'connections' and r.random() < 0.5:
            msg = [r.choice([10, 11]), {}]
        else:
            msg = self.invocation_mp(event if r.random() < 0.9 else self.text(1, 10),
                                     k < 3 or k > 9)
        if k < 3:
            payload = menc(msg, r)
        elif k < 5:                               # a member of a wrong type
            msg[r.randrange(len(msg))] = r.choice([None, True, -1, 2**64 - 1, 'x', b'x',
                                                   [], {}, 1.5, MRaw(b'\xc1')])
            payload = menc(msg, r)
        elif k < 7:                               # bytes mutated, length right
            payload = self.mutate_bytes(menc(msg, r))
        elif k == 7:                              # deep nesting
            n = r.choice([63, 64, 65, 200, 10000, 100000])
            payload = (b'\x95\x01\x80\xa1\x30' + mstr(event.encode()) + b'\x91'
                       + r.choice([b'\x91', b'\x81\xa1a']) * n + b'\xc0')
        elif k == 8:                              # huge declared lengths
            payload = (b'\x95\x01\x80\xa1\x30' + mstr(event.encode())
                       + r.choice([b'\xdd\xff\xff\xff\xff', b'\xdc\xff\xff',
                                   b'\x91\xdb\xff\xff\xff\xff', b'\x91\xc6\x7f\xff\xff\xff',
                                   b'\x91\xdf\xff\xff\xff\xff', b'\x91\xc9\xff\xff\xff\xff\x01',
                                   b'\x9f']))
        elif k == 9:
            payload = self.rbytes(0, 64)
        else:
            payload = menc(msg, r)
        # the length prefix: right, wrong, huge, overlong, missing
        k = r.randrange(10)
        if k < 5:
            prefix = varint(len(payload))
        elif k == 5:
            prefix = varint(max(0, len(payload) + r.randint(-5, 5)))
        elif k == 6:
            prefix = r.choice([b'\xff\xff\xff\xff\x0f', b'\xff\xff\xff\xff\xff\x01',
                               b'\x80\x80\x80\x80\x80\x80\x00', b'\x80', b'\xff',
                               varint(2**31), varint(2**35), b'\x00'])
        elif k == 7:
            prefix = b''
        elif k == 8:
            prefix = b'\x80' * r.randint(1, 4) + b'\x00'   # non-minimal
        else:
            prefix = varint(len(payload))
            payload = payload + r.choice([varint(3) + b'\x91\x06\x80', varint(1),
                                          varint(len(payload)) + payload])
        body = prefix + payload
        if r.random() < 0.1:
            body = body[:r.randint(0, len(body))]
        return body

    def trigger_headers(self, signed):
        """X-ASRS-* headers, valid most of the time when signed"""
        r = self.r
        valid = signed and r.random() < 0.85
        hub = r.choices(['chat', 'echo', 'text', 'other', 'Chat', 'ECHO'], [40, 30, 10, 8, 6, 6])[0]
        category = r.choices(['messages', 'connections'], [75, 25])[0]
        if category == 'messages':
            event = r.choice(['broadcast', 'send', 'Echo', 'x' * 100, self.text(1, 20)])
        else:
            event = r.choice(['connected', 'disconnected'])
        cid = CID if r.random() < 0.7 else self.text(1, 40).encode()
        h = collections.OrderedDict()
        h[b'X-ASRS-Hub'] = hub.encode()
        h[b'X-ASRS-Category'] = category.encode()
        h[b'X-ASRS-Event'] = event.encode()
        h[b'X-ASRS-Connection-Id'] = cid
        if not valid:
            for name in list(h):
                if r.random() < 0.25:
                    h[name] = r.choice([b'', self.header_value(), b'..', b'.', b'a/b',
                                        b'a%2Fb', b'\xc3\xa9', b'a b', b'a\\b', b'a"b',
                                        b'x' * 129, b'1chat', b'..%2f', b'messages',
                                        b'connections', b'connected'])
                elif r.random() < 0.05:
                    del h[name]
        return h, category, event, valid

    def trigger(self, signed):
        r = self.r
        method = b'POST' if r.random() < 0.9 else r.choice(
            [b'GET', b'PUT', b'DELETE', b'OPTIONS', b'HEAD', b'PATCH', b'FOO'])
        h, category, event, valid = self.trigger_headers(signed)
        headers = list(h.items())
        cid = h.get(b'X-ASRS-Connection-Id', b'')
        if signed:
            sig = sign(cid)
            k = r.randrange(10)
            if k == 1:
                sig = b'sha256=' + b'0' * 64 + b',' + sig
            elif k == 2:
                sig = sig.upper()
            elif k == 3:
                sig = b' , ' + sig + b' ,,'
            headers.append((b'X-ASRS-Signature', sig))
        else:
            k = r.randrange(8)
            if k == 0:
                pass                               # no signature
            elif k == 1:
                headers.append((b'X-ASRS-Signature',
                                b','.join([b'sha256=' + b'ab' * 32] * r.choice([32, 33, 1000]))))
            elif k == 2:
                headers.append((b'X-ASRS-Signature', self.mutate_bytes(sign(cid))))
            else:
                headers.append((b'X-ASRS-Signature', r.choice(
                    [b'', b'sha256=', b'sha256=zz', b'sha1=' + b'a' * 40, self.header_value(),
                     sign(b'another'), b'sha256=' + b'0' * 64])))
        # the content type, and a body in its protocol (mostly)
        ct = r.choices([b'application/json', b'application/x-msgpack', None,
                        b'application/json; charset=latin1', b'text/plain',
                        b'APPLICATION/JSON', b'application/x-msgpack; q=1',
                        b'application/jsonx', b'\xff\xfe', b''],
                       [45, 35, 2, 4, 2, 3, 3, 2, 2, 2])[0]
        if ct is not None:
            headers.append((b'Content-Type', ct))
        msgpack = ct is not None and b'msgpack' in ct
        if r.random() < 0.08:
            msgpack = not msgpack
        if msgpack:
            body = self.trigger_mp_body(category, event)
        else:
            body = self.trigger_json_body(category, event)
        # the optional X-ASRS-* headers
        # (valid headers that pass authentication: the body decides)
        if r.random() < 0.5:
            headers.append((b'X-ASRS-User-Id', r.choice(
                [b'alice', b'', '\u00e9\U0001f600'.encode()] if valid else
                [b'alice', b'', self.header_value(), b'\xff\xfe', b'\xed\xa0\x80'])))
        if r.random() < 0.4:
            headers.append((b'X-ASRS-Client-Query', self.query_string()))
        if r.random() < 0.4:
            headers.append((b'X-ASRS-User-Claims', self.claims()))
        # repeated and oversized headers
        k = r.randrange(12) if not valid or r.random() < 0.3 else 12
        if k == 0:
            name = r.choice([b'X-ASRS-Hub', b'X-ASRS-Event', b'X-ASRS-Connection-Id',
                             b'X-ASRS-Signature', b'X-ASRS-Category', b'x-asrs-hub',
                             b'X-ASRS-User-Id', b'X-ASRS-Client-Query', b'X-ASRS-User-Claims'])
            headers += [(name, r.choice([self.header_value(), b'chat', b''])) for _ in
                        range(r.randint(2, 400))]
        elif k == 1:
            headers += [(b'X-Extra-%d' % i, b'v') for i in range(r.choice([250, 256, 257, 600]))]
        elif k == 2:
            headers.append((b'X-Big', b'b' * r.choice([8192, 30000])))
        elif k == 3:
            headers.append((b'X-\xff\xfeName', b'v'))
            headers.append((b'X-Latin', b'caf\xe9'))
        elif k == 4:
            headers += [(b'Cookie', b'a=b'), (b'Authorization', b'Bearer x'),
                        (b'Content-Encoding', b'gzip'), (b'Expires', b'0'),
                        (b'content-type', b'text/plain')]
        if r.random() < 0.1:
            r.shuffle(headers)
        return 'trigger', method, b'/runtime/webhooks/signalr', headers, body

    # -- output -------------------------------------------------------------------

    def action(self):
        """one valid output action of the documented kinds"""
        r = self.r
        ids = lambda: [self.text(1, 8) for _ in range(r.randint(1, 4))]
        k = r.randrange(16)
        args = [self.value() for _ in range(r.randint(0, 3))]
        if k == 0:
            return {'target': 'newMessage', 'arguments': args}
        if k == 1:
            return {'target': 'newMessage', 'arguments': args, 'userId': 'alice'}
        if k == 2:
            return {'target': 'newMessage', 'arguments': args, 'groupName': 'room1',
                    'excluded': ids()}
        if k == 3:
            return {'target': 'newMessage', 'connectionId': 'c1', 'arguments': args}
        if k == 4:
            return {'action': 'add', 'groupName': 'room1', 'userId': 'alice', 'ttl': 3600}
        if k == 5:
            return {'action': r.choice(['add', 'remove']), 'groupName': 'g',
                    'connectionId': 'c1'}
        if k == 6:
            return {'action': 'removeAll', r.choice(['userId', 'connectionId']): 'x'}
        if k == 7:
            return {'action': 'close', 'connectionId': 'c1', 'reason': 'bye'}
        if k == 8:
            return {'action': 'closeConnections', 'groupName': 'g', 'excluded': ids(),
                    'reason': 'r'}
        if k == 9:
            return {'target': 't', 'arguments': args, 'userIds': ids()}
        if k == 10:
            return {'action': 'add', 'groupName': 'room', 'connectionIds': ids()}
        if k == 11:
            return {'action': 'remove', 'userId': 'alice', 'groupNames': ids()}
        if k == 12:
            return {'action': 'exists', r.choice(['userId', 'connectionId', 'groupName']): 'a'}
        if k == 13:
            return {'action': 'invoke', 'connectionId': 'c1', 'target': 'getLocation',
                    'arguments': args}
        if k == 14:
            return {'action': 'listConnections', 'groupName': 'g1'}
        return {'target': 'newMessage', 'arguments': args,
                'endpoints': [{'name': r.choice(['east', 'west', 'north'])}]}

    def output_body(self):
        r = self.r
        k = r.randrange(14)
        if k < 2:                                 # valid
            if r.random() < 0.5:
                return jenc(self.action())
            return jenc([self.action() for _ in range(r.randint(1, 8))])
        if k < 6:                                 # structured mutations
            acts = [self.mutate_obj(self.action()) if r.random() < 0.6 else self.action()
                    for _ in range(r.randint(1, 5))]
            return jenc(acts if len(acts) > 1 or r.random() < 0.5 else acts[0])
        if k < 9:                                 # byte mutations
            return self.mutate_bytes(jenc([self.action() for _ in range(r.randint(1, 4))]))
        if k == 9:
            return jenc(self.deep())
        if k == 10:                               # many actions, many recipients
            n = r.choice([100, 101, 1000])
            if r.random() < 0.5:
                return jenc([{'target': 't'}] * n)
            return jenc({'target': 't', 'userIds': ['u%d' % i for i in range(r.choice([100, 101]))]})
        if k == 11:                               # large bodies: at and over 1 MB
            n = r.choice([1024 * 1024 - 40, 1024 * 1024, 1024 * 1024 + 1, 2 * 1024 * 1024])
            return jenc({'target': 't', 'arguments': ['a' * max(0, n - 30)]})[:n]
        if k == 12:                               # a long "excluded" list: the URI limit
            return jenc({'target': 't', 'excluded': ['c' * 100 + str(i) for i in range(
                r.choice([50, 80, 81, 100]))]})
        return jenc(self.value())

    def output(self):
        r = self.r
        method = b'POST' if r.random() < 0.88 else r.choice(
            [b'GET', b'PUT', b'DELETE', b'OPTIONS', b'HEAD', b'PATCH'])
        loc = r.choices([b'/out', b'/out/hub', b'/out/msg', b'/out/group', b'/out/exists'],
                        [70, 8, 8, 7, 7])[0]
        target = loc
        headers = []
        if loc != b'/out' or r.random() < 0.1:
            q = []
            for name in (b'hub', b'user', b'c'):
                if r.random() < 0.7:
                    q.append(name + b'=' + r.choice([b'chat', b'', b'\xff\xfe', b'a%2Fb',
                                                     b'x' * r.choice([10, 1024, 1025, 5000]),
                                                     b'1hub', b'\xc3\xa9', b'..', b'%00']))
            target += b'?' + b'&'.join(q)
            if r.random() < 0.6:
                headers.append((b'X-Group', self.header_value()))
        ct = r.choices([b'application/json', None, b'application/json; charset=latin1',
                        b'application/x-msgpack', b'text/plain'], [70, 10, 8, 6, 6])[0]
        if ct is not None:
            headers.append((b'Content-Type', ct))
        body = self.output_body()
        return 'output', method, target, headers, body

    # -- requests ---------------------------------------------------------------

    def random_request(self):
        r = self.r
        k = r.random()
        if k < 0.25:
            return self.negotiate()
        if k < 0.70:
            # half of the upstream calls signed
            return self.trigger(signed=r.random() < 0.5)
        return self.output()

    def truncations(self):
        """valid bodies cut at every position, signed upstream calls included"""
        r = self.r
        out = []
        inv = jenc({'type': 1, 'invocationId': '7', 'target': 'broadcast',
                    'arguments': ['h\u00e9llo', {'n': 1, 'a': [True, None, 1.5]}]})
        mp = menc([1, {}, '7', 'broadcast', ['h\u00e9llo', {'n': 1}, b'\x00\x01', 2**40]],
                  random.Random(0))
        mp = varint(len(mp)) + mp
        base = [(b'X-ASRS-Hub', b'echo'), (b'X-ASRS-Category', b'messages'),
                (b'X-ASRS-Event', b'broadcast'), (b'X-ASRS-Connection-Id', CID),
                (b'X-ASRS-Signature', sign(CID))]
        acts = jenc([{'action': 'add', 'groupName': 'room', 'userId': 'al\u00e9'},
                     {'target': 'joined', 'groupName': 'room', 'arguments': ['x', 1]},
                     {'target': 'n', 'userIds': ['a', 'b'], 'excluded': ['c']}])
        for i in range(len(inv) + 1):
            out.append(('trigger', b'POST', b'/runtime/webhooks/signalr',
                        base + [(b'Content-Type', b'application/json')], inv[:i]))
        for i in range(len(mp) + 1):
            out.append(('trigger', b'POST', b'/runtime/webhooks/signalr',
                        base + [(b'Content-Type', b'application/x-msgpack')], mp[:i]))
        for i in range(len(acts) + 1):
            out.append(('output', b'POST', b'/out',
                        [(b'Content-Type', b'application/json')], acts[:i]))
        return out


# ---- sending ----------------------------------------------------------------

def raw_request(method, target, headers, body, chunked, keepalive=False):
    out = [method + b' ' + target + b' HTTP/1.1\r\n', b'Host: localhost\r\n',
           b'Connection: keep-alive\r\n' if keepalive else b'Connection: close\r\n']
    for name, value in headers:
        out.append(name + b': ' + value + b'\r\n')
    if chunked:
        out.append(b'Transfer-Encoding: chunked\r\n\r\n')
        i = 0
        while i < len(body):
            n = min(len(body) - i, 4096)
            out.append(b'%x\r\n' % n + body[i:i + n] + b'\r\n')
            i += n
        out.append(b'0\r\n\r\n')
    else:
        if body or method in (b'POST', b'PUT', b'PATCH'):
            out.append(b'Content-Length: %d\r\n' % len(body))
        out.append(b'\r\n')
        out.append(body)
    return b''.join(out)


def send(port, data, timeout):
    """the status of the answer, or None; and the first bytes of the answer"""
    resp = b''
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    except OSError as e:
        return None, ('connect: %s' % e).encode()
    try:
        s.settimeout(timeout)
        try:
            s.sendall(data)
        except OSError:
            pass            # nginx may answer (413, 400) before reading it all
        deadline = time.monotonic() + timeout
        while len(resp) < 65536 and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError as e:
                if not resp:
                    resp = ('recv: %s' % e).encode()
                    return None, resp
                break
            if not chunk:
                break
            resp += chunk
    finally:
        s.close()
    if resp.startswith(b'HTTP/1.') and len(resp) >= 12 and resp[9:12].isdigit():
        return int(resp[9:12]), resp
    return None, resp


def read_response(s, buf, head_only, deadline):
    """one response of a keepalive connection: (status, bytes, rest of the
    buffer, whether the connection can carry another request); status None
    when it did not come whole before the deadline or the connection closed"""
    def more():
        left = deadline - time.monotonic()
        if left <= 0:
            return b''
        s.settimeout(left)
        try:
            return s.recv(65536)
        except OSError:
            return b''

    while b'\r\n\r\n' not in buf:
        chunk = more()
        if not chunk:
            return None, buf, b'', False
        buf += chunk
    head, _, rest = buf.partition(b'\r\n\r\n')
    if not (head.startswith(b'HTTP/1.') and head[9:12].isdigit()):
        return None, buf, b'', False
    status = int(head[9:12])
    fields = {}
    for line in head.split(b'\r\n')[1:]:
        name, _, value = line.partition(b':')
        fields[name.strip().lower()] = value.strip().lower()
    reuse = b'close' not in fields.get(b'connection', b'')
    if head_only or status in (204, 304) or 100 <= status < 200:
        return status, head + b'\r\n\r\n', rest, reuse
    if b'chunked' in fields.get(b'transfer-encoding', b''):
        body = b''
        while True:
            while b'\r\n' not in rest:
                chunk = more()
                if not chunk:
                    return None, head + b'\r\n\r\n' + body + rest, b'', False
                rest += chunk
            size_line, _, rest = rest.partition(b'\r\n')
            try:
                n = int(size_line.split(b';')[0], 16)
            except ValueError:
                return None, head + b'\r\n\r\n' + body, b'', False
            while len(rest) < n + 2:
                chunk = more()
                if not chunk:
                    return None, head + b'\r\n\r\n' + body + rest, b'', False
                rest += chunk
            if n == 0:
                # no trailers from nginx: the last chunk ends in CRLF CRLF
                return status, head + b'\r\n\r\n' + body, rest[2:], reuse
            body += rest[:n]
            rest = rest[n + 2:]
    if b'content-length' in fields:
        n = int(fields[b'content-length'])
        while len(rest) < n:
            chunk = more()
            if not chunk:
                return None, head + b'\r\n\r\n' + rest, b'', False
            rest += chunk
        return status, head + b'\r\n\r\n' + rest[:n], rest[n:], reuse
    # no length: the body ends with the connection
    while True:
        chunk = more()
        if not chunk:
            return status, head + b'\r\n\r\n' + rest, b'', False
        rest += chunk


def send_keepalive(port, items, timeout):
    """several requests one after the other on one connection (all but the
    last with Connection: keep-alive): for each, (status, bytes, seconds);
    when nginx closes the connection, the rest go on a new one"""
    out = []
    s = None
    buf = b''
    for k, (data, head_only) in enumerate(items):
        t = time.monotonic()
        if s is None:
            try:
                s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
            except OSError as e:
                out.append((None, ('connect: %s' % e).encode(), time.monotonic() - t))
                continue
            buf = b''
        try:
            s.settimeout(timeout)
            s.sendall(data)
        except OSError:
            pass            # nginx may answer (413, 400) before reading it all
        status, resp, buf, reuse = read_response(s, buf, head_only, t + timeout)
        if status is not None and k == len(items) - 1:
            # the last one says Connection: close: nginx must close
            while True:
                left = t + timeout - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    if not s.recv(65536):
                        break
                except OSError:
                    break
        out.append((status, resp, time.monotonic() - t))
        if status is None or not reuse:
            s.close()
            s = None
    if s is not None:
        s.close()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--count', type=int, default=4000)
    ap.add_argument('--out', required=True)
    ap.add_argument('--jobs', type=int, default=4)
    ap.add_argument('--timeout', type=float, default=20)
    ap.add_argument('--deadline', type=float, default=300,
                    help='no request is started after these seconds')
    ap.add_argument('--max-unfinished', type=int, default=20,
                    help='no request is started after this many got no answer '
                    'or were not finished')
    ap.add_argument('--error-log',
                    help="nginx's error log: trigger routes that answered 5xx")
    a = ap.parse_args()

    g = Gen(a.seed)
    reqs = g.truncations() + [g.random_request() for _ in range(a.count)]
    # about a tenth of the requests go in runs of 2 to 6 on one keepalive
    # connection (a PRNG of its own: the requests are those of the seed)
    kr = random.Random(a.seed * 7919 + 1)
    groups = []
    i = 0
    while i < len(reqs):
        n = kr.randint(2, 6) if kr.random() < 0.025 else 1
        groups.append(list(range(i, min(i + n, len(reqs)))))
        i += n
    last = {grp[-1] for grp in groups}
    raws = []
    head_only = []
    for i, (loc, method, target, headers, body) in enumerate(reqs):
        chunked = bool(body) and method == b'POST' and g.r.random() < 0.05
        if loc == 'trigger':
            # the index, to find the request of an error-log line again
            # (the trigger's location is exact and reads no arguments)
            target += b'?badinput=%d' % i
        raws.append((loc, raw_request(method, target, headers, body, chunked,
                                      keepalive=i not in last)))
        head_only.append(method == b'HEAD')
    kept = sum(len(grp) for grp in groups if len(grp) > 1)
    print('badinput: seed %d: %d requests (%d truncations of valid bodies, %d generated; '
          '%d on %d keepalive connections), %d jobs, deadline %g s'
          % (a.seed, len(raws), len(reqs) - a.count, a.count, kept,
             sum(1 for grp in groups if len(grp) > 1), a.jobs, a.deadline), flush=True)

    results = [None] * len(raws)
    done = [0]
    broken = [0]            # requests unanswered or unfinished so far
    stopped = []            # why no more requests are started
    lock = threading.Lock()
    t0 = time.monotonic()

    def one(grp):
        t = time.monotonic()
        with lock:
            if not stopped and t - t0 > a.deadline:
                stopped.append('the deadline of %g s passed' % a.deadline)
            if stopped:
                return
        if len(grp) == 1:
            status, resp = send(a.port, raws[grp[0]][1], a.timeout)
            got = [(status, resp, time.monotonic() - t)]
        else:
            got = send_keepalive(a.port, [(raws[i][1], head_only[i]) for i in grp],
                                 a.timeout)
        for i, res in zip(grp, got):
            results[i] = res
            status, _, d = res
            with lock:
                done[0] += 1
                if status is None or d >= a.timeout - 0.5:
                    broken[0] += 1
                    if broken[0] >= a.max_unfinished and not stopped:
                        stopped.append('%d requests got no answer or were not finished'
                                       % broken[0])
                if done[0] % 1000 == 0:
                    print('badinput: %d/%d sent, %.0f s' % (done[0], len(raws),
                                                            time.monotonic() - t0),
                          flush=True)

    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        list(ex.map(one, groups))
    elapsed = time.monotonic() - t0
    unsent = [i for i in range(len(raws)) if results[i] is None]
    if stopped:
        print('badinput: stopped early: %s; %d requests not sent' % (stopped[0], len(unsent)),
              flush=True)

    # trigger routes that answered 5xx, from the error log: which requests
    route5xx = collections.OrderedDict()
    if a.error_log:
        pat = re.compile(rb'signalr: route ".*" answered (5\d\d) to .*'
                         rb'request: "[A-Z]+ /runtime/webhooks/signalr\?badinput=(\d+) ')
        try:
            with open(a.error_log, 'rb') as f:
                for line in f:
                    m = pat.search(line)
                    if m:
                        route5xx.setdefault(int(m.group(2)), line.rstrip()[:300])
        except OSError as e:
            print('badinput: cannot read the error log: %s' % e)
            return 1

    hist = collections.defaultdict(collections.Counter)
    errors = collections.defaultdict(collections.Counter)
    bad = []
    for i, (loc, raw) in enumerate(raws):
        if results[i] is None:
            hist[loc]['unsent'] += 1
            continue
        status, resp, _ = results[i]
        hist[loc][status if status is not None else 'none'] += 1
        # what the module said: which check each input reached
        body = resp.partition(b'\r\n\r\n')[2]
        if body.startswith(b'{"error":"'):
            msg = body[10:].split(b'"', 1)[0][:60].decode('utf-8', 'replace')
        elif body.startswith(b'{"type":3'):
            msg = 'completion: ' + ('error' if b'"error"' in body[:200] else 'result')
        elif body.startswith(b'\x1e') or status == 200 and b'msgpack' in resp[:1000]:
            msg = 'completion (MessagePack)'
        else:
            msg = '(%s)' % body[:30].decode('utf-8', 'replace')
        errors[loc]['%s %s' % (status, msg)] += 1
        # an answer whose connection stays open past the timeout: the
        # request was never finished (Connection: close is sent)
        hung = results[i][2] >= a.timeout - 0.5
        if status is None or status >= 500 or hung or i in route5xx:
            kind = ('noanswer' if status is None else '5xx' if status >= 500
                    else 'unfinished' if hung else 'route5xx')
            d = os.path.join(a.out, kind)
            os.makedirs(d, exist_ok=True)
            base = os.path.join(d, '%05d-%s' % (i, loc))
            with open(base + '.req', 'wb') as f:
                f.write(raw)
            with open(base + '.resp', 'wb') as f:
                f.write(resp[:8192])
            bad.append((i, loc, status, base, resp[:200]))
            if kind == 'route5xx':
                with open(base + '.log', 'wb') as f:
                    f.write(route5xx[i] + b'\n')

    print('badinput: %d requests in %.1f s (%.0f/s)' % (len(raws), elapsed,
                                                         len(raws) / elapsed))
    for loc in ('negotiate', 'trigger', 'output'):
        c = hist[loc]
        print('badinput: %-9s %5d requests: %s' % (
            loc, sum(c.values()),
            ' '.join('%s:%d' % (k, c[k]) for k in sorted(c, key=str))))
    total = collections.Counter()
    for c in hist.values():
        total.update(c)
    with open(os.path.join(a.out, 'summary.json'), 'w') as f:
        json.dump({'seed': a.seed, 'requests': len(raws), 'seconds': round(elapsed, 1),
                   'unsent': len(unsent), 'keepalive': kept, 'stopped': stopped[0] if stopped else None,
                   'route5xx': len(route5xx),
                   'statuses': {loc: {str(k): v for k, v in c.items()}
                                for loc, c in hist.items()},
                   'answers': {loc: dict(c.most_common()) for loc, c in errors.items()}},
                  f, indent=1)
    slow = sorted((i for i in range(len(raws)) if results[i] is not None),
                  key=lambda i: -results[i][2])[:3]
    print('badinput: slowest: %s' % ', '.join(
        'request %d (%s, %d bytes, %s) %.1f s' % (i, raws[i][0], len(raws[i][1]),
                                                 results[i][0], results[i][2])
        for i in slow))
    for i, loc, status, base, head in bad[:20]:
        print('badinput: request %d (%s): %s%s, saved as %s.req, .resp: %r'
              % (i, loc, status if status is not None else 'no answer',
                 ' (its route answered 5xx: %s.log)' % base if i in route5xx else '',
                 base, head))
    if bad or unsent:
        print('badinput: FAILED: %d requests answered 5xx, not at all, not '
              'finished within %g s, or their route answered 5xx (%d of them); '
              '%d not sent (seed %d)'
              % (len(bad), a.timeout, sum(1 for b in bad if b[0] in route5xx),
                 len(unsent), a.seed))
        return 1
    print('badinput: every request answered, none with a 5xx, no route answered 5xx')
    return 0


if __name__ == '__main__':
    sys.exit(main())
