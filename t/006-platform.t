# Regressions that depend on the nginx version or on nginx's configuration
# machinery: headers pushed without "next" (nginx >= 1.23), limit_except
# blocks, nested locations, media types with parameters.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;

our $CS_A = 'Endpoint=https://contoso.service.signalr.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
our $CS_S1 = 'Endpoint=https://a.example.net;'
    . "AccessKey=$SignalRTest::KEYS{S1};Version=1.0;";
our $CID = '0f9c97a2f0bf4706afe87a14e0797b11';
our $SIG1 = 'sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561';
sub invocation {
    my ($target) = @_;
    return qq({"type":1,"invocationId":"0","target":"$target","arguments":[]});
}

sub upstream {
    my ($event) = @_;
    return "X-ASRS-Connection-Id: $CID\nX-ASRS-Hub: chat\n"
        . "X-ASRS-Category: messages\nX-ASRS-Event: $event\n"
        . "X-ASRS-Signature: $SIG1\nContent-Type: application/json\n";
}

# the worker crash of nginx >= 1.23 needed freed memory to be reused with
# other bytes to show every time
$ENV{MALLOC_PERTURB_} ||= 90;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a route reads the headers the module gives its subrequest ($content_type, repeated-header walks)
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route/$signalr_event; }
    location = /route/ct {
        internal;
        default_type application/json;
        return 200 '"$content_type|$http_content_type|$http_x_asrs_hub|$http_cookie|$http_x_forwarded_for"';
    }
--- request eval
["POST /upstream\r\n" . main::invocation("ct"), "POST /upstream\r\n" . main::invocation("ct"),
 "POST /upstream\r\n" . main::invocation("ct")]
--- more_headers eval
[main::upstream('ct'), main::upstream('ct'), main::upstream('ct')]
--- response_body eval
[('{"type":3,"invocationId":"0","result":"application/json|application/json|chat||"}' . "\x1e") x 3]
--- no_error_log
[error]
[alert]



=== TEST 2: limit_except keeps the negotiate handler
--- http_config eval
"signalr_endpoint \"$::CS_A\";"
--- config
    location = /n {
        signalr_negotiate chat;
        limit_except GET { allow 127.0.0.1; deny all; }
    }
--- request eval
["POST /n", "GET /n"]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/^\{"url":"https:\/\/contoso\.service\.signalr\.net\/client\/\?hub=chat","accessToken":"[^"]+"\}$/,
 qr/^\{"url":"https:\/\/contoso\.service\.signalr\.net\/client\/\?hub=chat","accessToken":"[^"]+"\}$/]
--- no_error_log
[error]



=== TEST 3: limit_except denies what it denies, and the handler answers the rest
--- http_config eval
"signalr_endpoint \"$::CS_A\";"
--- config
    location = /n {
        signalr_negotiate chat;
        limit_except GET { deny all; }
    }
--- request
POST /n
--- error_code: 403
--- error_log
access forbidden by rule



=== TEST 4: limit_except keeps the output handler
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/rest/;"
--- config
    location = /out {
        signalr_output chat;
        limit_except GET { allow 127.0.0.1; deny all; }
    }
    location /rest/ {
        internal;
        return 202;
    }
--- request
POST /out
{"target":"t","arguments":[]}
--- more_headers
Content-Type: application/json
--- error_code: 202
--- response_body chomp
{"completed":1,"total":1}
--- no_error_log
[error]



=== TEST 5: limit_except keeps the trigger handler
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream {
        signalr_trigger /route;
        limit_except GET { allow 127.0.0.1; deny all; }
    }
    location = /route { internal; default_type application/json; return 200 '"ok"'; }
--- request eval
"POST /upstream\r\n" . main::invocation("broadcast")
--- more_headers eval
main::upstream('broadcast')
--- response_body eval
'{"type":3,"invocationId":"0","result":"ok"}' . "\x1e"
--- no_error_log
[error]



=== TEST 6: a location nested in a negotiate location mints no token
--- http_config eval
"signalr_endpoint \"$::CS_A\";"
--- config
    location /api/ {
        signalr_negotiate chat;
        location /api/public/ {
            return 200 "[$signalr_access_token][$signalr_client_url]";
        }
    }
--- request eval
["GET /api/public/x", "POST /api/negotiate"]
--- response_body_like eval
[qr/^\[\]\[\]$/, qr/"accessToken":"[^"]+"/]
--- no_error_log
[error]



=== TEST 7: a location nested in output or trigger locations has their handlers no more (as nginx core never passes a content handler down: a guard, not a regression)
--- http_config eval
"signalr_endpoint \"$::CS_S1\" rest=/rest/;"
--- config
    location /out/ {
        signalr_output chat;
        location /out/static/ { return 200 "static"; }
    }
    location /up/ {
        signalr_trigger /route;
        location /up/static/ { return 200 "static"; }
    }
    location /rest/ { internal; return 202; }
    location = /route { internal; return 204; }
--- request eval
["POST /out/static/x", "POST /up/static/x"]
--- response_body eval
["static", "static"]
--- no_error_log
[error]



=== TEST 8: a nested location without a handler of its own serves files, not the outer handler (a guard, not a regression)
--- http_config eval
"signalr_endpoint \"$::CS_A\";"
--- config
    location /api/ {
        signalr_negotiate chat;
        location /api/files/ { }
    }
--- user_files
>>> api/files/a.txt
file
--- request
GET /api/files/a.txt
--- response_body
file
--- no_error_log
[error]



=== TEST 9: a route's JSON result with white space before the media type's parameters is JSON, not a string
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route/$signalr_event; }
    location = /route/direct {
        internal;
        default_type "application/json ; charset=utf-8";
        return 200 '{"a":1}';
    }
    location = /route/proxied {
        internal;
        proxy_pass http://127.0.0.1:$server_port/backend;
    }
    location = /route/tab {
        internal;
        default_type "application/problem+json	;charset=utf-8";
        return 200 '{"b":2}';
    }
    location = /backend {
        default_type "application/json ; charset=utf-8";
        return 200 '{"c":3}';
    }
--- request eval
["POST /upstream\r\n" . main::invocation("direct"),
 "POST /upstream\r\n" . main::invocation("proxied"),
 "POST /upstream\r\n" . main::invocation("tab")]
--- more_headers eval
[main::upstream('direct'), main::upstream('proxied'), main::upstream('tab')]
--- response_body eval
['{"type":3,"invocationId":"0","result":{"a":1}}' . "\x1e",
 '{"type":3,"invocationId":"0","result":{"c":3}}' . "\x1e",
 '{"type":3,"invocationId":"0","result":{"b":2}}' . "\x1e"]
--- no_error_log
[error]



=== TEST 10: an upstream call's Content-Type with white space around the media type
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { internal; default_type application/json; return 200 '"ok"'; }
--- request eval
["POST /upstream\r\n" . main::invocation("broadcast"),
 "POST /upstream\r\n" . main::invocation("broadcast"),
 "POST /upstream\r\n" . main::invocation("broadcast")]
--- more_headers eval
[main::upstream('broadcast') =~ s/Content-Type: .*/Content-Type: application\/json ; charset=utf-8/r,
 main::upstream('broadcast') =~ s/Content-Type: .*/Content-Type: Application\/JSON;charset=UTF-8/r,
 main::upstream('broadcast') =~ s/Content-Type: .*/Content-Type: application\/jsonx/r]
--- error_code eval
[200, 200, 415]
--- response_body eval
['{"type":3,"invocationId":"0","result":"ok"}' . "\x1e",
 '{"type":3,"invocationId":"0","result":"ok"}' . "\x1e",
 '{"error":"Content-Type must be application/json or application/x-msgpack"}']



=== TEST 11: an upstream call without a signature is the caller's fault: logged at info, never at error
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { internal; return 204; }
--- request eval
"POST /upstream\r\n" . main::invocation("broadcast")
--- more_headers eval
main::upstream('broadcast') =~ s/X-ASRS-Signature: .*\n//r
--- error_code: 401
--- error_log eval
qr/\[info\] .*signalr: upstream call without X-ASRS-Signature refused/
--- no_error_log
[error]
[warn]



=== TEST 12: an upstream call with a wrong signature is the caller's fault: logged at info, never at error
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { internal; return 204; }
--- request eval
"POST /upstream\r\n" . main::invocation("broadcast")
--- more_headers eval
main::upstream('broadcast') =~ s/X-ASRS-Signature: sha256=7/X-ASRS-Signature: sha256=8/r
--- error_code: 401
--- error_log eval
qr/\[info\] .*signalr: upstream call with an X-ASRS-Signature that matches no signalr_endpoint key refused/
--- no_error_log
[error]
[warn]



=== TEST 13: signalr_output_max_actions is at most 1000 (each action's REST calls keep memory until the request ends)
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/rest/;"
--- config
    location = /out { signalr_output chat; signalr_output_max_actions 1001; }
--- must_die
--- error_log
"signalr_output_max_actions" directive must be between 1 and 1000



=== TEST 14: 1000 actions to two endpoints through a proxied REST location: every call answered (the memory they hold: t/008-memory.t)
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/rest/;
    signalr_endpoint \"$::CS_S1\" rest=/rest/ type=secondary name=b;"
--- config
    location = /out {
        signalr_output chat;
        signalr_output_max_actions 1000;
    }
    location /rest/ {
        internal;
        proxy_pass http://127.0.0.1:$server_port/service/;
    }
    location /service/ { return 202; }
--- request eval
"POST /out\r\n[" . join(",", map { qq({"target":"t","arguments":[$_],"groupName":"g$_"}) } 1 .. 1000) . "]"
--- more_headers
Content-Type: application/json
--- error_code: 202
--- response_body chomp
{"completed":1000,"total":1000,"endpoints":[{"name":"contoso.service.signalr.net","completed":1000},{"name":"b","completed":1000}]}
--- timeout: 60
--- no_error_log
[error]



=== TEST 15: the module's version is logged at startup, at notice
--- http_config eval
"signalr_endpoint \"$::CS_A\";"
--- config
    location = /n { signalr_negotiate chat; }
--- request
GET /n
--- error_log eval
qr/\[notice\] .*ngx_signalr_module\/\d+\.\d+\.\d+$/
--- log_level: notice



=== TEST 16: the negotiate answer's Cache-Control: no-store is the response's own: $sent_http_cache_control reads it, and it is sent once
--- http_config eval
"signalr_endpoint \"$::CS_A\";"
--- config
    location = /n {
        signalr_negotiate chat;
        add_header X-Seen "[$sent_http_cache_control]";
    }
--- request
POST /n
--- response_headers
X-Seen: [no-store]
Cache-Control: no-store
--- raw_response_headers_unlike: Cache-Control.*Cache-Control
--- no_error_log
[error]



=== TEST 17: expires replaces it, as for any response of nginx (one Cache-Control header; docs/directives.md says not to)
--- http_config eval
"signalr_endpoint \"$::CS_A\";"
--- config
    location = /n {
        signalr_negotiate chat;
        expires 1h;
    }
--- request
POST /n
--- response_headers
Cache-Control: max-age=3600
--- raw_response_headers_unlike: Cache-Control.*Cache-Control
--- no_error_log
[error]



=== TEST 18: REST tokens: one per endpoint and audience in a worker, given again while valid (sends to the hub share one, a send to a user has its own)
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/rest/;
    log_format auth '\$http_authorization';"
--- config
    location = /out { signalr_output chat; }
    location /rest/ {
        internal;
        proxy_pass http://127.0.0.1:$server_port/service/;
    }
    location /service/ {
        access_log html/auth.log auth;
        return 202;
    }
    location = /auth.log { root html; }
--- request eval
["POST /out\r\n[" . '{"target":"t","arguments":[1]},{"target":"t","arguments":[2]},{"target":"t","userId":"u","arguments":[3]}' . "]",
 "POST /out\r\n" . '{"target":"t","arguments":[4]}',
 "GET /auth.log"]
--- more_headers
Content-Type: application/json
--- response_body_filters eval
# a second passes before the second request: a token minted anew would
# carry another iat
[[sub { require Time::HiRes; Time::HiRes::sleep(1.2); $_[0] }],
 [sub { $_[0] }],
 [sub {
    my (%seen, $next);
    $next = 'A';
    return join '', map { ($seen{$_} //= $next++) . "\n" }
        grep { /^Bearer / } split /\n/, $_[0];
 }]]
--- error_code eval
[202, 202, 200]
--- response_body eval
['{"completed":3,"total":3}', '{"completed":1,"total":1}', "A\nA\nB\nA\n"]
--- no_error_log
[error]



=== TEST 19: output arguments nested 70 deep are sent as they are
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/rest/;"
--- config
    location = /out { signalr_output chat; }
    location /rest/ {
        internal;
        proxy_pass http://127.0.0.1:$server_port/service/;
    }
    location /service/ { return 202 $request_body; }
--- request eval
"POST /out\r\n" . '{"target":"t","arguments":' . ('[' x 70) . (']' x 70) . '}'
--- more_headers
Content-Type: application/json
--- error_code: 202
--- response_body chomp
{"completed":1,"total":1}
--- no_error_log
[error]



=== TEST 20: rest=/ sends REST calls to /api/hubs itself, the path the service has
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/;"
--- config
    location = /out { signalr_output chat; }
    location = /api/hubs { internal; return 202; }
    location /api/ { return 500; }
--- request
POST /out
{"target":"t","arguments":[]}
--- more_headers
Content-Type: application/json
--- error_code: 202
--- response_body chomp
{"completed":1,"total":1}
--- no_error_log
[error]
