#!/usr/bin/env python3
"""A small existing web app that gains real-time messaging behind nginx.

nginx (docs/examples/app/nginx.conf) negotiates for it and receives the
SignalR Service's upstream calls; its trigger posts each event to this app
as InvocationContext JSON (POST /signalr/<hub>/<category>/<event>), the JSON
that non-.NET Azure Functions receive. The app answers:

  * connected: 2xx accepts the connection, 403 (anything else) refuses it;
  * an invocation: its JSON body becomes the result of the client's
    invoke(); a failure status makes invoke() reject;

and it sends messages and group actions by POSTing output binding JSON
(one action or an array) to nginx's local signalr_output location.

Python 3 standard library only. Run:
  python3 app.py --port 3000 --output http://127.0.0.1:8081/signalr/chat
"""

import argparse
import json
import re
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BANNED = {"mallory"}            # refused when they connect
GROUP = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MAX_TEXT = 500

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>App chat</title>
<style>body{font:15px system-ui,sans-serif;max-width:40em;margin:1em auto}
#log{list-style:none;padding:0;border:1px solid #ddd;min-height:10em}
#log li{padding:.2em .5em}.sys{color:#777;font-style:italic}</style></head>
<body><h1>App chat</h1>
<p>A Python app behind nginx: nginx negotiates and receives the service's
upstream calls; the app answers them and sends messages through nginx's
signalr_output location.</p>
<p><label>Name <input id="name" value="guest"></label> <button id="go">Connect</button>
<span id="status">disconnected</span></p>
<p><input id="text" size="40"> <button id="send">Send</button>
<button id="others">Send to the others</button> <button id="online">Who is online?</button></p>
<ul id="log"></ul>
<script src="/lib/signalr.min.js"></script>
<script>
const $ = (id) => document.getElementById(id);
const log = (text, cls) => { const li = document.createElement('li'); li.textContent = text;
  if (cls) li.className = cls; $('log').appendChild(li); };
let conn;
$('go').onclick = async () => {
  conn = new signalR.HubConnectionBuilder()
    .withUrl('/api?user=' + encodeURIComponent($('name').value)).build();
  conn.on('newMessage', (from, text) => log(from + ': ' + text));
  conn.on('presence', (user, online) => log(user + (online ? ' is online' : ' left'), 'sys'));
  conn.onclose((e) => { $('status').textContent = 'disconnected'; if (e) log(e.message, 'sys'); });
  try { await conn.start(); $('status').textContent = 'connected'; }
  catch (e) { log('could not connect: ' + e.message, 'sys'); }
};
const call = async (...a) => { try { return await conn.invoke(...a); } catch (e) { log(e.message, 'sys'); } };
$('send').onclick = () => call('sendMessage', $('text').value);
$('others').onclick = () => call('sendToOthers', $('text').value);
$('online').onclick = async () => { const r = await call('online'); if (r) log('online: ' + r.join(', '), 'sys'); };
</script></body></html>
"""


class OutputError(Exception):
    pass


class App:
    def __init__(self, output_url):
        self.output_url = output_url
        self.lock = threading.Lock()
        self.online = {}        # connection id -> user id
        self.count = 0

    def output(self, actions):
        """POSTs output binding JSON to nginx; nginx makes the REST calls
        and answers 202 {"completed":n,"total":n} when all were delivered."""
        body = json.dumps(actions).encode()
        req = urllib.request.Request(self.output_url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                return json.load(res)
        except urllib.error.HTTPError as e:
            raise OutputError(f"{e.code} {e.read().decode(errors='replace')}") from None
        except OSError as e:
            raise OutputError(str(e)) from None

    # each handler gets the InvocationContext; returns (status, result)

    def connected(self, ctx):
        user = ctx.get("UserId")
        if not user or user in BANNED:
            return 403, None
        with self.lock:
            self.online[ctx["ConnectionId"]] = user
        self.output({"target": "presence", "arguments": [user, True]})
        return 204, None

    def disconnected(self, ctx):
        with self.lock:
            user = self.online.pop(ctx["ConnectionId"], None)
        if user:
            self.output({"target": "presence", "arguments": [user, False]})
        return 204, None

    def text(self, ctx, index=0):
        args = ctx.get("Arguments") or []
        if len(args) <= index or not isinstance(args[index], str):
            raise ValueError("a text argument is expected")
        text = args[index].strip()
        if not text or len(text) > MAX_TEXT:
            raise ValueError(f"a text is 1 to {MAX_TEXT} characters")
        return text

    def next_id(self):
        with self.lock:
            self.count += 1
            return self.count

    def on_sendMessage(self, ctx):
        """sendMessage(text): everyone receives newMessage(user, text)."""
        text = self.text(ctx)
        self.output({"target": "newMessage", "arguments": [ctx["UserId"], text]})
        return 200, {"id": self.next_id()}

    def on_sendToOthers(self, ctx):
        """sendToOthers(text): everyone but the sender's connection."""
        text = self.text(ctx)
        self.output({"target": "newMessage", "arguments": [ctx["UserId"], text],
                     "excluded": [ctx["ConnectionId"]]})
        return 200, {"id": self.next_id()}

    def on_whisper(self, ctx):
        """whisper(user, text): every connection of that user, and a copy
        to the sender's connection: two actions in one POST."""
        args = ctx.get("Arguments") or []
        if not args or not isinstance(args[0], str) or not args[0]:
            raise ValueError("whisper(user, text)")
        text = self.text(ctx, 1)
        message = [ctx["UserId"], text]
        self.output([
            {"target": "newMessage", "arguments": message, "userId": args[0]},
            {"target": "newMessage", "arguments": message, "connectionId": ctx["ConnectionId"]},
        ])
        return 200, {"id": self.next_id()}

    def group_name(self, ctx):
        args = ctx.get("Arguments") or []
        if not args or not isinstance(args[0], str) or not GROUP.match(args[0]):
            raise ValueError("a group name is 1 to 64 letters, digits, _ . or -")
        return args[0]

    def on_join(self, ctx):
        group = self.group_name(ctx)
        self.output({"action": "add", "groupName": group, "connectionId": ctx["ConnectionId"]})
        return 200, {"joined": group}

    def on_leave(self, ctx):
        group = self.group_name(ctx)
        self.output({"action": "remove", "groupName": group, "connectionId": ctx["ConnectionId"]})
        return 200, {"left": group}

    def on_sendToGroup(self, ctx):
        """sendToGroup(group, text): the group receives newMessage(user, text, group)."""
        group = self.group_name(ctx)
        text = self.text(ctx, 1)
        self.output({"target": "newMessage", "arguments": [ctx["UserId"], text, group],
                     "groupName": group})
        return 200, {"id": self.next_id()}

    def on_online(self, ctx):
        """online(): the result is the app's own state."""
        with self.lock:
            return 200, sorted(set(self.online.values()))


class Handler(BaseHTTPRequestHandler):
    app = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("app: " + (fmt % args) + "\n")

    def reply(self, status, body=None, content_type="application/json"):
        data = b"" if body is None else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        if data:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/":
            self.reply(200, PAGE, "text/html; charset=utf-8")
        else:
            self.reply(404, {"error": "not found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        m = re.fullmatch(r"/signalr/chat/(connections|messages)/([A-Za-z0-9_]+)", self.path)
        if not m:
            return self.reply(404, {"error": "no such hub event"})
        category, event = m.groups()
        if category == "connections":
            handler = getattr(self.app, event) if event in ("connected", "disconnected") else None
        else:
            handler = getattr(self.app, "on_" + event, None)
        if handler is None:
            return self.reply(404, {"error": "no such method"})
        try:
            ctx = json.loads(raw)
            status, result = handler(ctx)
        except ValueError as e:            # the client's mistake
            self.log_message("%s: %s", event, e)
            return self.reply(400, {"error": str(e)})
        except OutputError as e:           # nginx or the service refused
            self.log_message("%s: output failed: %s", event, e)
            return self.reply(502, {"error": str(e)})
        if status == 204:
            return self.reply(204)
        return self.reply(status, result)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=3000)
    parser.add_argument("--output", default="http://127.0.0.1:8081/signalr/chat",
                        help="nginx's signalr_output location")
    args = parser.parse_args()
    Handler.app = App(args.output)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print(f"app: listening on http://127.0.0.1:{server.server_port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
