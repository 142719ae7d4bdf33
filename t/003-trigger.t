# signalr_trigger: upstream calls from the service, validated, routed and
# answered. Signatures and hub-protocol bytes from the protocol's vectors.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;

our $CID = '0f9c97a2f0bf4706afe87a14e0797b11';
our $SIG1 = 'sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561';
our $SIG2 = 'sha256=d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760';
our $SIGEMU = 'sha256=8805D739A12D46F22BCB15382A8C1C2BF38AE8F04566017BD613D5EF47CAFE2C';

our $JSON_INVOCATION = '{"type":1,"invocationId":"0","target":"broadcast","arguments":["hello"]}';
our $MP_INVOCATION = pack('H*', '960180a130a962726f61646361737491a568656c6c6f90');

sub hdrs {
    my (%h) = @_;
    my %d = (
        'X-ASRS-Connection-Id' => $CID,
        'X-ASRS-Hub' => 'chat',
        'X-ASRS-Category' => 'messages',
        'X-ASRS-Event' => 'broadcast',
        'X-ASRS-Signature' => $SIG1,
        'Content-Type' => 'application/json',
    );
    %d = (%d, %h);
    return join '', map { defined $d{$_} ? "$_: $d{$_}\n" : '' } sort keys %d;
}

sub hex_body { unpack('H*', $_[0]) . "\n" }

# JSON nested deeper than MessagePack allows, and lists at their limits
our $DEEP = ('[' x 70) . (']' x 70);
our $Q256 = '?' . join('&', map { "k$_=v" } 0 .. 255) . '&k0=x';
our $Q1100 = '?' . join('&', ('a=1') x 1100);
our $C256 = join(', ', map { "c$_: v" } 0 .. 255) . ', c0: x';

add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->http_config) {
        $block->set_value("http_config", <<"_EOC_");
    signalr_endpoint "Endpoint=https://a.example.net;AccessKey=$SignalRTest::KEYS{S1}" name=a;
    signalr_endpoint "Endpoint=https://b.example.net;AccessKey=$SignalRTest::KEYS{EMU}" name=b type=secondary;
_EOC_
    }
    if (!defined $block->config) {
        $block->set_value("config", <<'_EOC_');
    location = /upstream {
        signalr_trigger /route/$signalr_category/$signalr_event;
    }
    location /route/ {
        default_type application/json;
        return 200 $request_body;
    }
_EOC_
    }
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a JSON invocation reaches the route as InvocationContext; the result comes back as a Completion
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs('X-ASRS-User-Id' => 'alice', 'X-ASRS-Client-Query' => '?hub=chat&id=abc%2Bdef&k=v+1&k=v2&empty=&flag', 'X-ASRS-User-Claims' => 'asrs.s.uid: alice, role: admin, role: ops, aud: http://localhost/client/?hub=chat, odd: a: b')
--- response_headers
Content-Type: application/json
--- response_body eval
qq({"type":3,"invocationId":"0","result":{"Arguments":["hello"],"Error":null,"Category":"messages","Event":"broadcast","Hub":"chat","ConnectionId":"$::CID","UserId":"alice","Headers":{"Host":"localhost","Connection":"close","X-ASRS-Category":"messages","X-ASRS-Client-Query":"?hub=chat&id=abc%2Bdef&k=v+1&k=v2&empty=&flag","X-ASRS-Connection-Id":"$::CID","X-ASRS-Event":"broadcast","X-ASRS-Hub":"chat","X-ASRS-Signature":"$::SIG1","X-ASRS-User-Claims":"asrs.s.uid: alice, role: admin, role: ops, aud: http://localhost/client/?hub=chat, odd: a: b","X-ASRS-User-Id":"alice"},"Query":{"hub":"chat","id":"abc+def","k":"v 1,v2","empty":"","flag":""},"Claims":{"asrs.s.uid":"alice","role":"admin","aud":"http://localhost/client/?hub=chat"}}}\x1e)
--- no_error_log
[error]



=== TEST 2: signatures: each key, both in one header, upper and lower case, spaces, empty items
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { return 204; }
--- request eval
[("POST /upstream\r\n$::JSON_INVOCATION") x 7]
--- more_headers eval
[main::hdrs(),
 main::hdrs('X-ASRS-Signature' => "$::SIG2,$::SIG1"),
 main::hdrs('X-ASRS-Signature' => $::SIGEMU),
 main::hdrs('X-ASRS-Signature' => lc $::SIGEMU),
 main::hdrs('X-ASRS-Signature' => uc $::SIG1),
 main::hdrs('X-ASRS-Signature' => " , $::SIG2 ,  $::SIG1 ,,"),
 main::hdrs('X-ASRS-Signature' => "SHA256=" . substr($::SIG1, 7))]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200]
--- response_body eval
[('{"type":3,"invocationId":"0","result":null}' . "\x1e") x 7]
--- no_error_log
[error]



=== TEST 3: signatures: wrong, truncated, other connection, empty, other algorithm, bad hex
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { return 204; }
--- request eval
[("POST /upstream\r\n$::JSON_INVOCATION") x 7]
--- more_headers eval
[main::hdrs('X-ASRS-Signature' => $::SIG2),
 main::hdrs('X-ASRS-Signature' => substr($::SIG1, 0, -1)),
 main::hdrs('X-ASRS-Signature' => "$::SIG1" . "00"),
 main::hdrs('X-ASRS-Connection-Id' => 'another-connection'),
 main::hdrs('X-ASRS-Signature' => ' , ,'),
 main::hdrs('X-ASRS-Signature' => 'sha1=' . substr($::SIG1, 7)),
 main::hdrs('X-ASRS-Signature' => 'sha256=zz' . substr($::SIG1, 9))]
--- error_code eval
[(401) x 7]
--- response_body eval
[('{"error":"invalid or missing X-ASRS-Signature"}') x 7]
--- error_log eval
[(qr/upstream call with an X-ASRS-Signature that matches no signalr_endpoint key refused: check that the service's access keys are the configured ones/) x 7]
--- no_error_log eval
[(qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*(?:7767effcb3946f3e|7aab239577fd4f24|d4aefb65547a00a9|8805d739a12d46f2)/i) x 7]



=== TEST 4: signatures: missing
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { return 204; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs('X-ASRS-Signature' => undef)
--- error_code: 401
--- response_body chomp
{"error":"invalid or missing X-ASRS-Signature"}
--- error_log
upstream call without X-ASRS-Signature refused
--- no_error_log eval
qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*(?:7767effcb3946f3e|7aab239577fd4f24|d4aefb65547a00a9|8805d739a12d46f2)/i



=== TEST 5: key rotation: an endpoint with the new key accepts a header signed with both
--- http_config eval
"signalr_endpoint \"Endpoint=https://a.example.net;AccessKey=$SignalRTest::KEYS{S2}\";"
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { return 204; }
--- request eval
["POST /upstream\r\n$::JSON_INVOCATION", "POST /upstream\r\n$::JSON_INVOCATION"]
--- more_headers eval
[main::hdrs('X-ASRS-Signature' => "$::SIG1,$::SIG2"), main::hdrs()]
--- error_code eval
[200, 401]



=== TEST 6: signalr_trigger_verify off: accepted unsigned, with a warning when loading
--- http_config
--- config
    location = /upstream { signalr_trigger_verify off; signalr_trigger /route; }
    location = /route { return 204; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs('X-ASRS-Signature' => undef)
--- error_code: 200
--- error_log
"signalr_trigger_verify" is off: upstream calls are not authenticated, use this for local development only
--- no_error_log
[error]



=== TEST 7: verification on without any endpoint key fails the configuration
--- http_config
--- config
    location = /upstream { signalr_trigger /route; }
--- must_die
--- error_log
"signalr_trigger" verifies signatures with the keys of "signalr_endpoint", and none is configured



=== TEST 8: the route must be a URI
--- config
    location = /upstream { signalr_trigger route; }
--- must_die
--- error_log
"signalr_trigger" needs a URI starting with "/", not "route"



=== TEST 9: 415 for a missing or other content type
--- request eval
[("POST /upstream\r\n$::JSON_INVOCATION") x 3]
--- more_headers eval
[main::hdrs('Content-Type' => undef), main::hdrs('Content-Type' => 'text/plain'), main::hdrs('Content-Type' => 'application/jsonx')]
--- error_code eval
[415, 415, 415]
--- response_body eval
[('{"error":"Content-Type must be application/json or application/x-msgpack"}') x 3]
--- no_error_log
[error]



=== TEST 10: 400 for missing or empty X-ASRS headers
--- config
    location = /upstream { signalr_trigger_verify off; signalr_trigger /route; }
    location = /route { return 204; }
--- request eval
[("POST /upstream\r\n$::JSON_INVOCATION") x 5]
--- more_headers eval
[main::hdrs('X-ASRS-Hub' => undef), main::hdrs('X-ASRS-Category' => ''), main::hdrs('X-ASRS-Event' => undef), main::hdrs('X-ASRS-Connection-Id' => undef), main::hdrs('X-ASRS-Hub' => '')]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_body eval
[('{"error":"an X-ASRS-Hub, X-ASRS-Category, X-ASRS-Event or X-ASRS-Connection-Id header is missing or empty"}') x 5]
--- no_error_log
[error]



=== TEST 11: 400 for categories, events and bodies that do not agree
--- request eval
["POST /upstream\r\n$::JSON_INVOCATION",
 "POST /upstream\r\n{\"type\":10}",
 "POST /upstream\r\n{\"type\":1,\"target\":\"other\",\"arguments\":[]}",
 "POST /upstream\r\n{\"type\":4,\"target\":\"broadcast\",\"arguments\":[]}",
 "POST /upstream\r\n{\"type\":1,\"target\":\"broadcast\",\"arguments\":{}}",
 "POST /upstream\r\n{\"type\":1,\"target\":\"broadcast\"}",
 "POST /upstream\r\n{\"type\":1,\"target\":\"broadcast\",\"arguments\":[],\"invocationId\":7}",
 "POST /upstream\r\n{\"type\":1,\"target\":\"broadcast\",\"arguments\":[1,}",
 "POST /upstream\r\n{\"type\":11}",
 "POST /upstream\r\n{\"type\":11,\"error\":5}",
 "POST /upstream\r\n$::MP_INVOCATION",
 "POST /upstream\r\n\x96\x01\x80\xa1\x30",
 "POST /upstream\r\n[1]",
 "POST /upstream\r\n"]
--- more_headers eval
[main::hdrs('X-ASRS-Category' => 'other'),
 main::hdrs('X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'joined'),
 main::hdrs(),
 main::hdrs(),
 main::hdrs(),
 main::hdrs(),
 main::hdrs(),
 main::hdrs(),
 main::hdrs('X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'connected'),
 main::hdrs('X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'disconnected'),
 main::hdrs('X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'connected', 'Content-Type' => 'application/x-msgpack'),
 main::hdrs('Content-Type' => 'application/x-msgpack'),
 main::hdrs(),
 main::hdrs()]
--- error_code eval
[(400) x 14]
--- response_body eval
['{"error":"X-ASRS-Category must be connections or messages"}',
 '{"error":"X-ASRS-Event of the connections category must be connected or disconnected"}',
 '{"error":"the invocation target differs from X-ASRS-Event"}',
 '{"error":"the message is not an invocation (type 1)"}',
 '{"error":"the invocation arguments must be an array"}',
 '{"error":"the invocation arguments must be an array"}',
 '{"error":"the invocationId must be a string"}',
 '{"error":"invalid JSON invocation"}',
 '{"error":"a connected event needs the body {\"type\":10}"}',
 '{"error":"the error of a disconnected event must be a string"}',
 '{"error":"connection events carry JSON bodies"}',
 '{"error":"invalid MessagePack invocation"}',
 '{"error":"invalid JSON invocation"}',
 '{"error":"invalid JSON invocation"}']
--- no_error_log
[error]



=== TEST 12: odd header values: hubs, events and connection ids that could escape a route
--- request eval
[("POST /upstream\r\n$::JSON_INVOCATION") x 6]
--- config
    location = /upstream { signalr_trigger_verify off; signalr_trigger /route/$signalr_event/$signalr_connection_id; }
    location /route/ { return 204; }
--- more_headers eval
[main::hdrs('X-ASRS-Hub' => '../chat'),
 main::hdrs('X-ASRS-Event' => '../../admin'),
 main::hdrs('X-ASRS-Event' => '..'),
 main::hdrs('X-ASRS-Connection-Id' => 'a/b'),
 main::hdrs('X-ASRS-Connection-Id' => 'a%2fb'),
 main::hdrs('X-ASRS-User-Id' => "caf\xe9")]
--- error_code eval
[(400) x 6]
--- response_body eval
['{"error":"invalid X-ASRS-Hub"}',
 '{"error":"invalid X-ASRS-Event"}',
 '{"error":"invalid X-ASRS-Event"}',
 '{"error":"invalid X-ASRS-Connection-Id or X-ASRS-User-Id"}',
 '{"error":"invalid X-ASRS-Connection-Id or X-ASRS-User-Id"}',
 '{"error":"invalid X-ASRS-Connection-Id or X-ASRS-User-Id"}']
--- no_error_log
[error]



=== TEST 13: only POST
--- request
GET /upstream
--- error_code: 405
--- response_headers
Allow: POST
--- response_body chomp
{"error":"upstream calls are POST"}



=== TEST 14: bodies over client_max_body_size are refused
--- config
    location = /upstream { client_max_body_size 64; signalr_trigger /route; }
--- request eval
"POST /upstream\r\n" . '{"type":1,"invocationId":"0","target":"broadcast","arguments":["' . ("x" x 100) . '"]}'
--- more_headers eval
main::hdrs()
--- error_code: 413



=== TEST 15: connected: a 2xx route accepts, anything else refuses with 403, 404 stays 404
--- config
    location = /upstream { signalr_trigger /route/$arg_answer; }
    location = /route/ok { return 204; }
    location = /route/ok200 { return 200 "welcome"; }
    location = /route/no { return 401; }
    location = /route/boom { return 500; }
--- request eval
["POST /upstream?answer=ok\r\n{\"type\":10}", "POST /upstream?answer=ok200\r\n{\"Type\":10}", "POST /upstream?answer=no\r\n{\"type\":10}", "POST /upstream?answer=boom\r\n{\"type\":10}", "POST /upstream?answer=missing\r\n{\"type\":10}"]
--- more_headers eval
[(main::hdrs('X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'connected')) x 5]
--- error_code eval
[200, 200, 403, 403, 404]
--- response_body eval
["", "", '{"error":"connection refused"}', '{"error":"connection refused"}', '{"error":"no route for this event"}']



=== TEST 16: disconnected: the error reaches the route (names in any case); the answer is 200 whatever the route says
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { return 500 "[$signalr_event|$signalr_error]"; }
    location = /log { return 200 "x"; }
--- request eval
["POST /upstream\r\n{\"type\":11,\"error\":\"boom\"}", "POST /upstream\r\n{\"Type\":11,\"Error\":\"Connection closed with an error.\"}", "POST /upstream\r\n{\"type\":11}"]
--- more_headers eval
[(main::hdrs('X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'Disconnected')) x 3]
--- error_code eval
[200, 200, 200]
--- response_body eval
["", "", ""]
--- error_log
signalr: route "/route" answered 500 to a disconnected event



=== TEST 17: the variables, as seen by the route (a text result becomes a string)
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route {
        default_type text/plain;
        return 200 "$signalr_hub|$signalr_category|$signalr_event|$signalr_connection_id|$signalr_user_id|$signalr_invocation_id|$signalr_arguments|$signalr_error";
    }
--- request eval
"POST /upstream\r\n" . '{"type":1,"invocationId":"42","target":"SendMessage","arguments":["hi",{"n":0.1,"big":-9223372036854775808},[true,null]]}'
--- more_headers eval
main::hdrs('X-ASRS-Hub' => 'Chat', 'X-ASRS-Event' => 'sendmessage', 'X-ASRS-User-Id' => 'bob')
--- response_body eval
'{"type":3,"invocationId":"42","result":"chat|messages|sendmessage|' . $::CID . '|bob|42|[\"hi\",{\"n\":0.1,\"big\":-9223372036854775808},[true,null]]|"}' . "\x1e"
--- no_error_log
[error]



=== TEST 18: an invocation without id: 200 and an empty body, whatever the route answers
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { return 500; }
--- request eval
"POST /upstream\r\n" . '{"type":1,"target":"broadcast","arguments":["hello"]}'
--- more_headers eval
main::hdrs()
--- error_code: 200
--- response_body chomp
--- error_log
signalr: route "/route" answered 500 to "broadcast"



=== TEST 19: completions in JSON: result, null (204, empty), error (route failure, invalid JSON, not UTF-8)
--- config
    location = /upstream { signalr_trigger /route/$arg_r; }
    location = /route/ok { default_type application/json; return 200 '"ok"'; }
    location = /route/obj { default_type "application/json; charset=utf-8"; return 200 '{ "a" : [1, 2.50, "\u00e9"] }'; }
    location = /route/none { return 204; }
    location = /route/empty { return 200; }
    location = /route/fail { return 502; }
    location = /route/badjson { default_type application/json; return 200 '{"a":'; }
    location = /route/latin1 { proxy_method GET; proxy_pass http://127.0.0.1:$server_port/latin1.txt; }
--- user_files eval
">>> latin1.txt\ncaf\xe9"
--- request eval
[map { "POST /upstream?r=$_\r\n$::JSON_INVOCATION" } qw(ok obj none empty fail badjson latin1)]
--- more_headers eval
[(main::hdrs()) x 7]
--- response_body eval
[qq({"type":3,"invocationId":"0","result":"ok"}\x1e),
 qq({"type":3,"invocationId":"0","result":{"a":[1,2.5,"\xc3\xa9"]}}\x1e),
 qq({"type":3,"invocationId":"0","result":null}\x1e),
 qq({"type":3,"invocationId":"0","result":null}\x1e),
 qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e),
 qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e),
 qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e)]



=== TEST 20: the completion vector (json-completion-result), byte for byte
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/json; return 200 '"ok"'; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs()
--- response_body_filters eval
\&main::hex_body
--- response_body
7b2274797065223a332c22696e766f636174696f6e4964223a2230222c22726573756c74223a226f6b227d1e
--- no_error_log
[error]



=== TEST 21: MessagePack: the invocation vector in, the completion vectors out (result, error, null)
--- config
    location = /upstream { signalr_trigger /route/$arg_r; }
    location = /route/ok { default_type application/json; return 200 '"ok"'; }
    location = /route/fail { return 500; }
    location = /route/none { return 204; }
    location = /route/args { default_type application/json; return 200 $signalr_arguments; }
--- request eval
[map { "POST /upstream?r=$_\r\n$::MP_INVOCATION" } qw(ok fail none args)]
--- more_headers eval
[(main::hdrs('Content-Type' => 'application/x-msgpack')) x 4]
--- response_headers eval
[("Content-Type: application/x-msgpack") x 4]
--- response_body_filters eval
\&main::hex_body
--- response_body eval
["09950380a13003a26f6b\n",
 "19950380a13001b2" . unpack("H*", "Invocation failed.") . "\n",
 "07950380a13003c0\n",
 "0d950380a13003" . "91a568656c6c6f" . "\n"]



=== TEST 22: MessagePack edge cases reach the route as JSON: nested, binary, big ints, floats, unicode, nil id
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type text/plain; return 200 "[$signalr_invocation_id]$signalr_arguments"; }
--- request eval
"POST /upstream\r\n" . pack('H*',
    '96' . '01' . '80' . 'a3' . unpack('H*', 'a-1') . 'a9' . unpack('H*', 'broadcast')
  . '97'
  . 'cf' . 'ffffffffffffffff'
  . 'd3' . '8000000000000000'
  . 'cb' . '3fb999999999999a'
  . 'c4' . '03' . '000102'
  . 'a6' . unpack('H*', "\xc3\xa9\xf0\x9f\x98\x80")
  . '81' . 'a1' . '6b' . '92' . 'c0' . 'c3'
  . 'ca' . '3fc00000'
  . '90')
--- more_headers eval
main::hdrs('Content-Type' => 'application/x-msgpack')
--- response_body_filters eval
\&SignalRTest::mp_string_completion
--- response_body
id=a-1 result=[a-1][1.8446744073709552e+19,-9223372036854775808,0.1,"AAEC","é😀",{"k":[null,true]},1.5]
--- no_error_log
[error]



=== TEST 23: MessagePack without an invocation id: 200, empty
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { return 200 "ignored"; }
--- request eval
"POST /upstream\r\n" . pack('H*', '9601' . '80' . 'c0' . 'a9' . unpack('H*', 'broadcast') . '90' . '90')
--- more_headers eval
main::hdrs('Content-Type' => 'application/x-msgpack')
--- error_code: 200
--- response_body chomp
--- no_error_log
[error]



=== TEST 24: routing by variables to different web apps (regex locations), unknown events 404
--- config
    location = /upstream { signalr_trigger /signalr/$signalr_hub/$signalr_category/$signalr_event; }
    location ~ ^/signalr/chat/messages/(?<method>[A-Za-z]+)$ { default_type application/json; return 200 '"chat:$method"'; }
    location ~ ^/signalr/(?<hub>[^/]+)/connections/connected$ { return 204; }
--- request eval
["POST /upstream\r\n" . '{"type":1,"invocationId":"1","target":"Echo","arguments":[]}',
 "POST /upstream\r\n{\"type\":10}",
 "POST /upstream\r\n" . '{"type":1,"invocationId":"1","target":"echo","arguments":[]}']
--- more_headers eval
[main::hdrs('X-ASRS-Event' => 'Echo'), main::hdrs('X-ASRS-Hub' => 'lobby', 'X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'connected'), main::hdrs('X-ASRS-Hub' => 'other', 'X-ASRS-Event' => 'echo')]
--- error_code eval
[200, 200, 404]
--- response_body eval
[qq({"type":3,"invocationId":"1","result":"chat:Echo"}\x1e), "", '{"error":"no route for this event"}']



=== TEST 25: a route that times out gives an error completion
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { proxy_read_timeout 200ms; proxy_pass http://127.0.0.1:$server_port/sleep; }
    location = /sleep { limit_rate 1; return 200 "slow body that takes a long time"; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs()
--- response_body eval
qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e)
--- error_log
signalr: route "/route" answered 504 to invocation "0" of "broadcast"



=== TEST 26: a route that cannot be reached gives an error completion
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { proxy_pass http://127.0.0.1:1/; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs()
--- response_body eval
qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e)
--- error_log
signalr: route "/route" answered 502 to invocation "0" of "broadcast"



=== TEST 27: only X-ASRS-* headers and the context reach the route, never other client headers
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type text/plain; return 200 "[$http_cookie][$http_authorization][$http_x_asrs_hub][$content_type][$content_length]"; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs('Cookie' => 'session=secret', 'Authorization' => 'Bearer client-token')
--- response_body_like chomp
"result":"\[\]\[\]\[chat\]\[application/json\]\[\d+\]"
--- no_error_log
[error]



=== TEST 28: the operator is told about a failing route
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { return 502; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs()
--- response_body eval
qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e)
--- error_log
signalr: route "/route" answered 502 to invocation "0" of "broadcast"



=== TEST 29: the operator is told about invalid JSON from the route
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/json; return 200 '{"a":'; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs()
--- response_body eval
qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e)
--- error_log
signalr: route "/route" answered invalid JSON



=== TEST 30: the operator is told about a result over 1 MB
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { proxy_pass http://127.0.0.1:$server_port/big.json; proxy_method GET; }
--- user_files eval
">>> big.json\n\"" . ("x" x 1048600) . "\""
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs()
--- response_body eval
qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e)
--- error_log
signalr: the result of route "/route" is larger than 1048576 bytes



=== TEST 31: a body nginx buffered to a file is read back whole
--- config
    location = /upstream {
        client_body_buffer_size 1k;
        client_body_in_file_only clean;
        signalr_trigger /route;
    }
    location = /route { default_type text/plain; return 200 "$signalr_arguments"; }
--- request eval
"POST /upstream\r\n" . '{"type":1,"invocationId":"9","target":"broadcast","arguments":["' . ("y" x 5000) . '"]}'
--- more_headers eval
main::hdrs()
--- response_body eval
'{"type":3,"invocationId":"9","result":"[\"' . ("y" x 5000) . '\"]"}' . "\x1e"
--- no_error_log
[error]



=== TEST 32: a route answering application/problem+json gives a JSON result
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/problem+json; return 200 '{"title":"x"}'; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs()
--- response_body eval
qq({"type":3,"invocationId":"0","result":{"title":"x"}}\x1e)
--- no_error_log
[error]



=== TEST 33: a JSON result too deep for MessagePack gives an error Completion
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { proxy_method GET; proxy_pass http://127.0.0.1:$server_port/deep.json; }
    location = /deep.json { types { } default_type application/json; }
--- user_files eval
">>> deep.json\n" . ("[" x 70) . ("]" x 70)
--- request eval
"POST /upstream\r\n$::MP_INVOCATION"
--- more_headers eval
main::hdrs('Content-Type' => 'application/x-msgpack')
--- response_body_filters eval
\&main::hex_body
--- response_body eval
"19950380a13001b2" . unpack("H*", "Invocation failed.") . "\n"
--- error_log
signalr: the result of route "/route" cannot be written as MessagePack



=== TEST 34: a JSON invocation whose arguments nest 70 deep reaches the route
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type text/plain; return 200 "ok"; }
--- request eval
"POST /upstream\r\n" . '{"type":1,"invocationId":"0","target":"broadcast","arguments":' . $::DEEP . '}'
--- more_headers eval
main::hdrs()
--- response_body eval
qq({"type":3,"invocationId":"0","result":"ok"}\x1e)
--- no_error_log
[error]



=== TEST 35: a JSON result nested 70 deep comes back in a JSON Completion
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { proxy_method GET; proxy_pass http://127.0.0.1:$server_port/deep.json; }
    location = /deep.json { types { } default_type application/json; }
--- user_files eval
">>> deep.json\n" . $::DEEP
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs()
--- response_body eval
qq({"type":3,"invocationId":"0","result":$::DEEP}\x1e)
--- no_error_log
[error]



=== TEST 36: lists at their limits: 256 query names and one of them again is refused, 1100 values of one name are joined, 256 claim names and a repeat are refused
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type text/plain; return 200 "ok"; }
--- request eval
["POST /upstream\r\n$::JSON_INVOCATION", "POST /upstream\r\n$::JSON_INVOCATION", "POST /upstream\r\n$::JSON_INVOCATION"]
--- more_headers eval
[main::hdrs('X-ASRS-Client-Query' => $::Q256), main::hdrs('X-ASRS-Client-Query' => $::Q1100), main::hdrs('X-ASRS-User-Claims' => $::C256)]
--- error_code eval
[400, 200, 400]
--- response_body eval
['{"error":"X-ASRS-* values that are not UTF-8, or too many headers, query parameters or claims"}',
 qq({"type":3,"invocationId":"0","result":"ok"}\x1e),
 '{"error":"X-ASRS-* values that are not UTF-8, or too many headers, query parameters or claims"}']



=== TEST 37: the client query: a '%' without two hex digits stays as it is (as ASP.NET Core reads a query)
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/json; return 200 $request_body; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs('X-ASRS-Client-Query' => '?a=%zz%4&b=%&c=%41')
--- response_body_like: "Query":\{"a":"%zz%4","b":"%","c":"A"\}
--- no_error_log
[error]



=== TEST 38: a route answering through X-Accel-Redirect with an empty file: an empty result (null), not a cut response
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { proxy_method GET; proxy_pass http://127.0.0.1:$server_port/xa; }
    location = /xa { add_header X-Accel-Redirect /files/empty.txt; return 200 "x"; }
    location /files/ { internal; alias html/; }
--- user_files
>>> empty.txt
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs()
--- response_body eval
qq({"type":3,"invocationId":"0","result":null}\x1e)
--- no_error_log
[error]



=== TEST 39: X-ASRS-* names in any case are read, and reach the route as they were written
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route {
        default_type application/json;
        return 200 '"$http_x_asrs_hub $http_x_asrs_event $http_x_asrs_signature"';
    }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
"x-asrs-connection-id: $::CID\nX-Asrs-HUB: chat\nx-aSRS-category: messages\nX-ASRS-EVENT: broadcast\nx-asrs-signature: $::SIG1\nContent-Type: application/json\n"
--- response_body eval
qq({"type":3,"invocationId":"0","result":"chat broadcast $::SIG1"}\x1e)
--- no_error_log
[error]



=== TEST 40: of an X-ASRS-* name given twice in any case, the first counts
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/json; return 200 $request_body; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs() . "x-asrs-HUB: other\n"
--- response_body_like: "Event":"broadcast","Hub":"chat","ConnectionId"
--- no_error_log
[error]



=== TEST 41: the InvocationContext's Headers keep each name as the service wrote it
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/json; return 200 $request_body; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
"x-asrs-connection-id: $::CID\nX-Asrs-HUB: chat\nx-aSRS-category: messages\nX-ASRS-EVENT: broadcast\nx-asrs-signature: $::SIG1\nContent-Type: application/json\n"
--- response_body_like: "Headers":\{"Host":"localhost","Connection":"close","x-asrs-connection-id":"0f9c97a2f0bf4706afe87a14e0797b11","X-Asrs-HUB":"chat","x-aSRS-category":"messages","X-ASRS-EVENT":"broadcast","x-asrs-signature":"sha256=[0-9a-f]{64}"\}
--- no_error_log
[error]



=== TEST 42: a route's proxy_set_header replaces or removes X-ASRS-* headers, also one with '_' that "ignore_invalid_headers off" lets through
--- config
    ignore_invalid_headers off;
    location = /upstream { signalr_trigger /route; }
    location = /route {
        proxy_set_header X-ASRS-Hub "replaced";
        proxy_set_header X-ASRS-Tenant_Id "";
        proxy_pass http://127.0.0.1:$server_port/echo;
    }
    location = /echo {
        default_type application/json;
        return 200 '"[$http_x_asrs_hub][$http_x_asrs_tenant_id]"';
    }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs('X-ASRS-Tenant_Id' => 'secret')
--- response_body eval
qq({"type":3,"invocationId":"0","result":"[replaced][]"}\x1e)
--- no_error_log
[error]



=== TEST 43: the characters a connection id or an event may have: printable ASCII but " # % / ? \ (each refused alone), and "." or ".." alone
--- request eval
["POST /upstream\r\n$::JSON_INVOCATION",
 "POST /upstream\r\n" . q({"type":1,"invocationId":"0","target":"a!$&'()*+,-.:;<=>@[]^_`{|}~zAZ09","arguments":[]}),
 ("POST /upstream\r\n$::JSON_INVOCATION") x 10]
--- config
    location = /upstream { signalr_trigger_verify off; signalr_trigger /route/$signalr_event/$signalr_connection_id; }
    location /route/ { return 204; }
--- more_headers eval
[main::hdrs('X-ASRS-Connection-Id' => q{a!$&'()*+,-.:;<=>@[]^_`{|}~zAZ09}),
 main::hdrs('X-ASRS-Event' => q{a!$&'()*+,-.:;<=>@[]^_`{|}~zAZ09}),
 main::hdrs('X-ASRS-Connection-Id' => 'a"b'),
 main::hdrs('X-ASRS-Connection-Id' => 'a#b'),
 main::hdrs('X-ASRS-Connection-Id' => 'a%b'),
 main::hdrs('X-ASRS-Connection-Id' => 'a?b'),
 main::hdrs('X-ASRS-Connection-Id' => 'a\\b'),
 main::hdrs('X-ASRS-Connection-Id' => "a b"),
 main::hdrs('X-ASRS-Connection-Id' => "a\x7fb"),
 main::hdrs('X-ASRS-Connection-Id' => "a\xc3\xa9b"),
 main::hdrs('X-ASRS-Event' => '.'),
 main::hdrs('X-ASRS-Event' => 'a"b')]
--- error_code eval
[200, 200, (400) x 10]
--- response_body eval
[('{"type":3,"invocationId":"0","result":null}' . "\x1e") x 2,
 ('{"error":"invalid X-ASRS-Connection-Id or X-ASRS-User-Id"}') x 8,
 '{"error":"invalid X-ASRS-Event"}',
 '{"error":"invalid X-ASRS-Event"}']
--- no_error_log
[error]



=== TEST 44: a route's proxy_set_header replaces an X-ASRS-* header (the hash nginx made of it is reused)
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route {
        proxy_set_header X-ASRS-Hub "replaced";
        proxy_set_header X-ASRS-User-Id "";
        proxy_pass http://127.0.0.1:$server_port/echo;
    }
    location = /echo {
        default_type application/json;
        return 200 '"[$http_x_asrs_hub][$http_x_asrs_user_id][$http_x_asrs_event]"';
    }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs('X-ASRS-User-Id' => 'alice')
--- response_body eval
qq({"type":3,"invocationId":"0","result":"[replaced][][broadcast]"}\x1e)
--- no_error_log
[error]



=== TEST 45: $signalr_endpoint: the endpoint whose key signed the call, in the trigger location and in its route
--- config
    location = /upstream {
        signalr_trigger /route;
        add_header X-Endpoint $signalr_endpoint;
    }
    location = /route { default_type application/json; return 200 '"$signalr_endpoint"'; }
--- request eval
[("POST /upstream\r\n$::JSON_INVOCATION") x 2]
--- more_headers eval
[main::hdrs(), main::hdrs('X-ASRS-Signature' => $::SIGEMU)]
--- response_headers eval
["X-Endpoint: a", "X-Endpoint: b"]
--- response_body eval
[qq({"type":3,"invocationId":"0","result":"a"}\x1e), qq({"type":3,"invocationId":"0","result":"b"}\x1e)]
--- no_error_log
[error]



=== TEST 46: one service, two keys (rotation): two signalr_endpoint lines for it are one endpoint; a call signed with either key, or both, is accepted and names that endpoint
--- http_config eval
"signalr_endpoint \"Endpoint=https://a.example.net;AccessKey=$SignalRTest::KEYS{S2}\" name=a;
    signalr_endpoint \"Endpoint=https://A.example.net/;AccessKey=$SignalRTest::KEYS{S1}\";
    signalr_endpoint \"Endpoint=https://b.example.net;AccessKey=$SignalRTest::KEYS{EMU}\" name=b type=secondary;"
--- config
    location = /upstream {
        signalr_trigger /route;
        add_header X-Endpoint $signalr_endpoint;
    }
    location = /route { return 204; }
--- request eval
[("POST /upstream\r\n$::JSON_INVOCATION") x 5]
--- more_headers eval
[main::hdrs('X-ASRS-Signature' => $::SIG1),
 main::hdrs('X-ASRS-Signature' => $::SIG2),
 main::hdrs('X-ASRS-Signature' => "$::SIG2,$::SIG1"),
 main::hdrs('X-ASRS-Signature' => $::SIGEMU),
 main::hdrs('X-ASRS-Signature' => 'sha256=' . ('0' x 64))]
--- error_code eval
[200, 200, 200, 200, 401]
--- response_headers eval
["X-Endpoint: a", "X-Endpoint: a", "X-Endpoint: a", "X-Endpoint: b", "X-Endpoint:"]



=== TEST 47: the InvocationContext without X-ASRS-User-Id, -Client-Query and -User-Claims: UserId, Query and Claims are null
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/json; return 200 $request_body; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs()
--- response_body eval
qq({"type":3,"invocationId":"0","result":{"Arguments":["hello"],"Error":null,"Category":"messages","Event":"broadcast","Hub":"chat","ConnectionId":"$::CID","UserId":null,"Headers":{"Host":"localhost","Connection":"close","X-ASRS-Category":"messages","X-ASRS-Connection-Id":"$::CID","X-ASRS-Event":"broadcast","X-ASRS-Hub":"chat","X-ASRS-Signature":"$::SIG1"},"Query":null,"Claims":null}}\x1e)
--- no_error_log
[error]



=== TEST 48: the InvocationContext with empty X-ASRS-User-Id, -Client-Query and -User-Claims: UserId is "", Query and Claims are null
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/json; return 200 $request_body; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs('X-ASRS-User-Id' => '', 'X-ASRS-Client-Query' => '', 'X-ASRS-User-Claims' => '')
--- response_body eval
qq({"type":3,"invocationId":"0","result":{"Arguments":["hello"],"Error":null,"Category":"messages","Event":"broadcast","Hub":"chat","ConnectionId":"$::CID","UserId":"","Headers":{"Host":"localhost","Connection":"close","X-ASRS-Category":"messages","X-ASRS-Client-Query":"","X-ASRS-Connection-Id":"$::CID","X-ASRS-Event":"broadcast","X-ASRS-Hub":"chat","X-ASRS-Signature":"$::SIG1","X-ASRS-User-Claims":"","X-ASRS-User-Id":""},"Query":null,"Claims":null}}\x1e)
--- no_error_log
[error]



=== TEST 49: an X-ASRS-Client-Query or X-ASRS-User-Claims that holds no pair gives {}, not null
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/json; return 200 $request_body; }
--- request eval
[("POST /upstream\r\n$::JSON_INVOCATION") x 2]
--- more_headers eval
[main::hdrs('X-ASRS-Client-Query' => '?', 'X-ASRS-User-Claims' => 'nocolon'),
 main::hdrs('X-ASRS-Client-Query' => '&', 'X-ASRS-User-Claims' => ',')]
--- response_body eval
[qq({"type":3,"invocationId":"0","result":{"Arguments":["hello"],"Error":null,"Category":"messages","Event":"broadcast","Hub":"chat","ConnectionId":"$::CID","UserId":null,"Headers":{"Host":"localhost","Connection":"close","X-ASRS-Category":"messages","X-ASRS-Client-Query":"?","X-ASRS-Connection-Id":"$::CID","X-ASRS-Event":"broadcast","X-ASRS-Hub":"chat","X-ASRS-Signature":"$::SIG1","X-ASRS-User-Claims":"nocolon"},"Query":{},"Claims":{}}}\x1e),
 qq({"type":3,"invocationId":"0","result":{"Arguments":["hello"],"Error":null,"Category":"messages","Event":"broadcast","Hub":"chat","ConnectionId":"$::CID","UserId":null,"Headers":{"Host":"localhost","Connection":"close","X-ASRS-Category":"messages","X-ASRS-Client-Query":"&","X-ASRS-Connection-Id":"$::CID","X-ASRS-Event":"broadcast","X-ASRS-Hub":"chat","X-ASRS-Signature":"$::SIG1","X-ASRS-User-Claims":","},"Query":{},"Claims":{}}}\x1e)]
--- no_error_log
[error]



=== TEST 50: the InvocationContext's Headers leave out every content header (names in any case), keep the others, and join a repeated name's values with "," under its first spelling
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/json; return 200 $request_body; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs('Content-Type' => undef) . <<'_EOH_'
content-type: application/json
Content-Encoding: identity
content-language: en
Content-Location: /x
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Range: bytes 0-1/2
Content-Disposition: inline
EXPIRES: Thu, 01 Jan 1970 00:00:00 GMT
Last-Modified: Thu, 01 Jan 1970 00:00:00 GMT
Allow: POST
X-Custom: a
Accept: text/html
Content-Foo: x
Content-Security-Policy: default-src 'self'
x-custom: b
Accept: application/json
_EOH_
--- response_body eval
qq({"type":3,"invocationId":"0","result":{"Arguments":["hello"],"Error":null,"Category":"messages","Event":"broadcast","Hub":"chat","ConnectionId":"$::CID","UserId":null,"Headers":{"Host":"localhost","Connection":"close","X-ASRS-Category":"messages","X-ASRS-Connection-Id":"$::CID","X-ASRS-Event":"broadcast","X-ASRS-Hub":"chat","X-ASRS-Signature":"$::SIG1","X-Custom":"a,b","Accept":"text/html,application/json","Content-Foo":"x","Content-Security-Policy":"default-src 'self'"},"Query":null,"Claims":null}}\x1e)
--- no_error_log
[error]



=== TEST 51: the refusal order of the Functions extension: the content type, then the X-ASRS-* headers, before the signature (a bad one here)
--- request eval
[("POST /upstream\r\n$::JSON_INVOCATION") x 10, "POST /upstream\r\n{\"type\":1,"]
--- more_headers eval
[main::hdrs('X-ASRS-Signature' => $::SIG2, 'Content-Type' => 'text/plain'),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'Content-Type' => undef),
 main::hdrs('X-ASRS-Signature' => undef, 'Content-Type' => 'text/plain'),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'X-ASRS-Hub' => undef),
 main::hdrs('X-ASRS-Signature' => undef, 'X-ASRS-Connection-Id' => ''),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'X-ASRS-Category' => 'other'),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'X-ASRS-Hub' => '../chat'),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'X-ASRS-Connection-Id' => 'a/b'),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'X-ASRS-User-Id' => "caf\xe9"),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'joined'),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'X-ASRS-Hub' => undef, 'Content-Type' => 'text/plain')]
--- error_code eval
[415, 415, 415, (400) x 7, 415]
--- response_body eval
['{"error":"Content-Type must be application/json or application/x-msgpack"}',
 '{"error":"Content-Type must be application/json or application/x-msgpack"}',
 '{"error":"Content-Type must be application/json or application/x-msgpack"}',
 '{"error":"an X-ASRS-Hub, X-ASRS-Category, X-ASRS-Event or X-ASRS-Connection-Id header is missing or empty"}',
 '{"error":"an X-ASRS-Hub, X-ASRS-Category, X-ASRS-Event or X-ASRS-Connection-Id header is missing or empty"}',
 '{"error":"X-ASRS-Category must be connections or messages"}',
 '{"error":"invalid X-ASRS-Hub"}',
 '{"error":"invalid X-ASRS-Connection-Id or X-ASRS-User-Id"}',
 '{"error":"invalid X-ASRS-Connection-Id or X-ASRS-User-Id"}',
 '{"error":"X-ASRS-Event of the connections category must be connected or disconnected"}',
 '{"error":"Content-Type must be application/json or application/x-msgpack"}']
--- no_error_log
upstream call with an X-ASRS-Signature
upstream call without X-ASRS-Signature



=== TEST 52: the body, and the client query and claims, are read only after the signature is checked: a bad signature with a bad body or query gives 401
--- request eval
["POST /upstream\r\n{\"type\":1,", "POST /upstream\r\n$::MP_INVOCATION", "POST /upstream\r\n{\"type\":10}", "POST /upstream\r\n$::JSON_INVOCATION", "POST /upstream\r\n$::JSON_INVOCATION"]
--- more_headers eval
[main::hdrs('X-ASRS-Signature' => $::SIG2),
 main::hdrs('X-ASRS-Signature' => $::SIG2),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'disconnected'),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'X-ASRS-Client-Query' => 'a=%ff'),
 main::hdrs('X-ASRS-Signature' => $::SIG2, 'X-ASRS-User-Claims' => $::C256)]
--- error_code eval
[(401) x 5]
--- response_body eval
[('{"error":"invalid or missing X-ASRS-Signature"}') x 5]
--- error_log
upstream call with an X-ASRS-Signature that matches no signalr_endpoint key refused
--- no_error_log
[error]
invalid JSON invocation



=== TEST 53: the claims split as the Functions extension splits them (types in their exact case, empty parts left out, .NET's white space trimmed), and a query name may be empty
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { default_type application/json; return 200 $request_body; }
--- request eval
"POST /upstream\r\n$::JSON_INVOCATION"
--- more_headers eval
main::hdrs('X-ASRS-Client-Query' => '?=x&a=1&=y', 'X-ASRS-User-Claims' => "Role: a, role: b, k: , k2: : v, k3: v: ,  : e, t: \tv, odd: a: b")
--- response_body eval
qq({"type":3,"invocationId":"0","result":{"Arguments":["hello"],"Error":null,"Category":"messages","Event":"broadcast","Hub":"chat","ConnectionId":"$::CID","UserId":null,"Headers":{"Host":"localhost","Connection":"close","X-ASRS-Category":"messages","X-ASRS-Client-Query":"?=x&a=1&=y","X-ASRS-Connection-Id":"$::CID","X-ASRS-Event":"broadcast","X-ASRS-Hub":"chat","X-ASRS-Signature":"$::SIG1","X-ASRS-User-Claims":"Role: a, role: b, k: , k2: : v, k3: v: ,  : e, t: \\tv, odd: a: b"},"Query":{"":"x,y","a":"1"},"Claims":{"Role":"a","role":"b","k2":"v","k3":"v","":"e","t":"v"}}}\x1e)
--- no_error_log
[error]
