# Regressions found in review: handlers inside "if" blocks, subrequest
# bodies re-sent by proxy_next_upstream, REST calls that ids could steer
# into other locations, dot-segment ids.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;

our $CS_A = 'Endpoint=https://contoso.service.signalr.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
our $CS_S1 = 'Endpoint=https://a.example.net;'
    . "AccessKey=$SignalRTest::KEYS{S1};Version=1.0;";
our $CID = '0f9c97a2f0bf4706afe87a14e0797b11';
our $SIG1 = 'sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561';
our $UPSTREAM = "X-ASRS-Connection-Id: $CID\nX-ASRS-Hub: chat\n"
    . "X-ASRS-Category: messages\nX-ASRS-Event: broadcast\n"
    . "X-ASRS-Signature: $SIG1\nContent-Type: application/json\n";
our $INVOCATION = '{"type":1,"invocationId":"0","target":"broadcast","arguments":["hello"]}';

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: signalr_negotiate in a location with an "if" block
--- http_config eval
"signalr_endpoint \"$::CS_A\";"
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_user_id $arg_user;
        if ($arg_x) { set $flag 1; }
    }
--- request
POST /api/negotiate?x=1&user=alice
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"asrs.s.uid":"alice","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]
[alert]



=== TEST 2: signalr_trigger in a location with an "if" block
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream {
        signalr_trigger /route;
        if ($arg_x) { set $flag 1; }
    }
    location = /route { default_type application/json; return 200 '"ok"'; }
--- request eval
"POST /upstream?x=1\r\n$::INVOCATION"
--- more_headers eval
$::UPSTREAM
--- response_body eval
qq({"type":3,"invocationId":"0","result":"ok"}\x1e)
--- no_error_log
[error]
[alert]



=== TEST 3: signalr_output in a location with an "if" block
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;"
--- config
    location = /send {
        signalr_output chat;
        if ($arg_x) { set $flag 1; }
    }
    location /_signalr/ { internal; proxy_pass http://127.0.0.1:$server_port; }
    location /api/ { return 202; }
--- request
POST /send?x=1
{"target":"newMessage","arguments":["hi"]}
--- error_code: 202
--- response_body chomp
{"completed":1,"total":1}
--- no_error_log
[error]
[alert]



=== TEST 4: a route body is sent again whole when proxy_next_upstream retries it
--- http_config eval
"signalr_endpoint \"$::CS_S1\";
    upstream apps {
        server 127.0.0.1:19877 max_fails=0;
        server 127.0.0.1:\$TEST_NGINX_SERVER_PORT max_fails=0;
    }"
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route {
        proxy_pass http://apps/app;
        proxy_next_upstream error timeout non_idempotent;
    }
    location = /app {
        default_type text/plain;
        proxy_pass http://127.0.0.1:$server_port/echo;
    }
    location = /echo { return 200 "[$content_length]"; }
--- tcp_listen: 19877
--- tcp_reply:
--- request eval
"POST /upstream\r\n$::INVOCATION"
--- more_headers eval
$::UPSTREAM
--- response_body_like eval
qr/^\{"type":3,"invocationId":"0","result":"\[\d+\]"\}\x1e$/
--- no_error_log
[alert]



=== TEST 5: a regex location cannot catch REST calls through an id
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;
    log_format rest escape=none '\$request_method \$request_uri';"
--- config
    location ~ \.js$ { return 418; }
    location ~ /users/ { return 418; }
    location = /send { signalr_output chat; }
    location /_signalr/ { internal; proxy_pass http://127.0.0.1:$server_port; }
    location ^~ /api/ { access_log logs/rest.log rest; return 200; }
    location = /rest.log { alias logs/rest.log; }
--- request eval
["POST /send\r\n{\"action\":\"add\",\"groupName\":\"app.js\",\"userId\":\"bob\"}",
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body eval
['{"completed":1,"total":1}',
 "PUT /api/hubs/chat/users/bob/groups/app.js?api-version=2022-06-01\n"]
--- no_error_log
[error]



=== TEST 6: dot-segment ids are refused before anything is sent
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;"
--- config
    location = /send { signalr_output chat; }
    location /_signalr/ { internal; return 500; }
--- request eval
["POST /send\r\n{\"target\":\"t\",\"userId\":\"..\"}",
 "POST /send\r\n{\"action\":\"remove\",\"groupName\":\".\",\"connectionId\":\"c\"}"]
--- error_code eval
[400, 400]
--- response_body eval
['{"error":"\"userId\" cannot be \".\" or \"..\""}',
 '{"error":"\"groupName\" cannot be \".\" or \"..\""}']
--- no_error_log
[error]



=== TEST 7: an error_page that answers after a failed REST call counts as the answer (sent once, no retry)
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;
    log_format rest escape=none '\$request_method \$request_uri';"
--- config
    location = /send { signalr_output chat; }
    location /_signalr/ {
        internal;
        proxy_pass http://127.0.0.1:1;
        error_page 502 = @backup;
    }
    location @backup { proxy_pass http://127.0.0.1:$server_port; }
    location ^~ /api/ { access_log logs/rest.log rest; return 202 '{}'; }
    location = /rest.log { alias logs/rest.log; }
--- request eval
["POST /send\r\n{\"target\":\"newMessage\",\"arguments\":[1]}", "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body eval
['{"completed":1,"total":1}', "POST /api/hubs/chat/:send?api-version=2022-06-01\n"]
--- no_error_log
retry



=== TEST 8: a route response cut short by its upstream is a failure, not a result
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { proxy_pass http://127.0.0.1:19878; }
--- tcp_listen: 19878
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nhalf of the ans"
--- request eval
"POST /upstream\r\n$::INVOCATION"
--- more_headers eval
$::UPSTREAM
--- response_body eval
qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e)
--- error_log
signalr: the response of "/route" ended before its end



=== TEST 9: a chunked route response is a result
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { proxy_pass http://127.0.0.1:19879; proxy_http_version 1.1; }
--- tcp_listen: 19879
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n5\r\n\":[1]\r\n1\r\n}\r\n0\r\n\r\n"
--- request eval
"POST /upstream\r\n$::INVOCATION"
--- more_headers eval
$::UPSTREAM
--- response_body eval
qq({"type":3,"invocationId":"0","result":{"a":[1]}}\x1e)
--- no_error_log
[error]



=== TEST 10: a route response ended by closing the connection (no length) is a result
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { proxy_pass http://127.0.0.1:19880; }
--- tcp_listen: 19880
--- tcp_reply eval
"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe whole answer"
--- request eval
"POST /upstream\r\n$::INVOCATION"
--- more_headers eval
$::UPSTREAM
--- response_body eval
qq({"type":3,"invocationId":"0","result":"the whole answer"}\x1e)
--- no_error_log
[error]



=== TEST 11: a route answering 444 or 408 gets an error Completion, not a closed connection
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route/$arg_r; }
    location = /route/close { return 444; }
    location = /route/timeout { return 408; }
--- request eval
["POST /upstream?r=close\r\n$::INVOCATION", "POST /upstream?r=timeout\r\n$::INVOCATION"]
--- more_headers eval
[$::UPSTREAM, $::UPSTREAM]
--- error_code eval
[200, 200]
--- response_body eval
[qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e), qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e)]



=== TEST 12: signalr_output_max_actions must be at least 1
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;"
--- config
    location = /send { signalr_output chat; signalr_output_max_actions 0; }
--- must_die
--- error_log
"signalr_output_max_actions" directive must be between 1 and 1000



=== TEST 13: signalr_rest_retries is at most 10
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;"
--- config
    location = /send { signalr_output chat; signalr_rest_retries 11; }
--- must_die
--- error_log
"signalr_rest_retries" directive must be between 0 and 10



=== TEST 14: an "if" block in a templated output location keeps its recipient
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;
    log_format rest escape=none '\$request_method \$request_uri';"
--- config
    location = /out {
        signalr_output chat;
        signalr_target newMessage;
        signalr_user_id $arg_u;
        if ($arg_x) { set $flag 1; }
    }
    location /_signalr/ { internal; proxy_pass http://127.0.0.1:$server_port; }
    location ^~ /api/ { access_log logs/rest.log rest; return 202; }
    location = /rest.log { alias logs/rest.log; }
--- request eval
["POST /out?u=alice&x=1\r\n\"hi\"", "POST /out?u=bob\r\n\"hi\"", "GET /rest.log"]
--- error_code eval
[202, 202, 200]
--- response_body eval
['{"completed":1,"total":1}', '{"completed":1,"total":1}',
 "POST /api/hubs/chat/users/alice/:send?api-version=2022-06-01\nPOST /api/hubs/chat/users/bob/:send?api-version=2022-06-01\n"]
--- no_error_log
[error]



=== TEST 15: a REST answer whose body breaks after its 2xx header ends quickly (no finalization loop): the service took the call, so it is done
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;"
--- config
    location = /send { signalr_output chat; signalr_rest_retries 2; }
    location /_signalr/ { internal; proxy_pass http://127.0.0.1:19881; proxy_http_version 1.1; }
--- tcp_listen: 19881
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
--- request
POST /send
{"target":"t","arguments":[]}
--- error_code: 202
--- response_body chomp
{"completed":1,"total":1}
--- grep_error_log eval
qr/retry \d+ of \d+|signalr: the response of "\/_signalr\/api\/hubs[^"]*" failed after its header|answered REST call "broadcast" with status 200, and its answer was cut short: counted as done, not sent again/
--- grep_error_log_out
signalr: the response of "/_signalr/api/hubs" failed after its header
answered REST call "broadcast" with status 200, and its answer was cut short: counted as done, not sent again
--- no_error_log
header already sent
--- timeout: 5



=== TEST 16: a route answer whose body breaks after its header gives an error Completion
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { proxy_pass http://127.0.0.1:19882; proxy_http_version 1.1; proxy_buffering off; }
--- tcp_listen: 19882
--- tcp_reply eval
"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
--- request eval
"POST /upstream\r\n$::INVOCATION"
--- more_headers eval
$::UPSTREAM
--- response_body eval
qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e)
--- no_error_log
header already sent
--- timeout: 5



=== TEST 17: an unbuffered 2xx answer without length cut by a timeout ends within the timeout, done and not sent again
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;"
--- config
    location = /send { signalr_output chat; signalr_rest_retries 2; }
    location /_signalr/ {
        internal;
        proxy_pass http://127.0.0.1:19883;
        proxy_buffering off;
        proxy_read_timeout 300ms;
    }
--- tcp_listen: 19883
--- tcp_no_close
--- tcp_reply eval
"HTTP/1.0 202 Accepted\r\n\r\nhalf"
--- request
POST /send
{"target":"t","arguments":[]}
--- error_code: 202
--- response_body chomp
{"completed":1,"total":1}
--- grep_error_log eval
qr/retry \d+ of \d+|signalr: the response of "\/_signalr\/api\/hubs[^"]*" ended before its end|answered REST call "broadcast" with status 202, and its answer was cut short: counted as done, not sent again/
--- grep_error_log_out
signalr: the response of "/_signalr/api/hubs" ended before its end
answered REST call "broadcast" with status 202, and its answer was cut short: counted as done, not sent again
--- timeout: 5



=== TEST 18: in-memory subrequests of a route (njs) are the route's own, not captured
--- main_config eval
# njs built for the nginx under test: TEST_NGINX_NJS_MODULE, or else
# ngx_http_js_module.so in that nginx's --modules-path (for Debian's nginx,
# libnginx-mod-http-js); when there is none, or nginx refuses it (built for
# another version), the test is skipped and says why
my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $njs = $ENV{TEST_NGINX_NJS_MODULE};
my $why;
if (!$njs) {
    my $v = `$nginx -V 2>&1`;
    my ($mods) = $v =~ /--modules-path=([^\s']+)/;
    my ($prefix) = $v =~ /--prefix=([^\s']+)/;
    $njs = ($mods // ($prefix // '/usr/local/nginx') . '/modules')
        . '/ngx_http_js_module.so';
}
if (!-f $njs) {
    $why = "no njs for this nginx: no $njs (TEST_NGINX_NJS_MODULE names one)";
} else {
    require File::Temp;
    my $d = File::Temp::tempdir(CLEANUP => 1);
    mkdir "$d/logs";
    open my $fh, '>', "$d/nginx.conf" or die "$d/nginx.conf: $!";
    print $fh "load_module $njs;\nevents {}\n";
    close $fh;
    my $out = `$nginx -t -p $d/ -c $d/nginx.conf 2>&1`;
    if ($?) {
        my ($emerg) = $out =~ /\[emerg\] (.*)/;
        $why = "nginx does not load $njs: " . ($emerg // $out);
    }
}
$::NJS_SKIP = $why;
$why ? '' : "load_module $njs;";
--- skip_eval
3: defined $::NJS_SKIP && do { Test::More::diag("TEST 18 skipped: $::NJS_SKIP"); 1 }
--- http_config eval
"signalr_endpoint \"$::CS_S1\";
    js_import route from $ENV{TEST_NGINX_HTML_DIR}/route.js;"
--- config
    location = /upstream { signalr_trigger /route; }
    location = /route { js_content route.handle; }
    location = /inner { return 200 'INNER'; }
--- user_files
>>> route.js
function handle(r) {
    r.subrequest('/inner', function (reply) {
        r.return(200, 'njs got [' + reply.responseText + ']');
    });
}
export default {handle};
--- request eval
"POST /upstream\r\n$::INVOCATION"
--- more_headers eval
$::UPSTREAM
--- response_body eval
qq({"type":3,"invocationId":"0","result":"njs got [INNER]"}\x1e)
--- no_error_log
[error]
