# The actions the Functions binding lacks (closeConnections, exists, invoke,
# listConnections) and actions with several recipients, sent through a real
# proxy_pass to a REST mock served by the same nginx (location /api/, whose
# access log records each call; /_svc/ answers as the service would, route
# by route, with the codes of Microsoft's 2022-06-01 and 2024-12-01 specs).
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;

our $CS_A = 'Endpoint=https://contoso.service.signalr.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
our $CS_EAST = 'Endpoint=https://east.example.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
our $CS_WEST = 'Endpoint=https://west.example.net;'
    . "AccessKey=$SignalRTest::KEYS{B};Version=1.0;";

our $LOG = q{log_format rest escape=none '$request_method $request_uri|}
    . q{$http_authorization|$http_content_type|$http_asrs_user_agent|}
    . q{$http_cookie|$request_body';};

# the service: exists, invoke and list answers by path; anything else 202
our $SVC = <<'_EOS_';
    location /_svc/ { return 202 '{}'; }
    location ~ ^/_svc/hubs/chat/(connections/c1|users/alice|groups/g1|users/alice/groups/g1)$ {
        return 200;
    }
    location ~ ^/_svc/hubs/chat/(connections/c2|users/bob)$ {
        add_header x-ms-error-code $code always;
        set $code Warning.User.NotExisted;
        if ($uri ~ connections) { set $code Warning.Connection.NotExisted; }
        return 404;
    }
    location = /_svc/hubs/chat/groups/g2 {
        add_header x-ms-error-code Warning.Group.NotExisted always;
        return 404;
    }
    location = /_svc/hubs/chat/users/alice/groups/g2 {
        add_header x-ms-error-code Info.User.NotInGroup always;
        return 404;
    }
    location = /_svc/hubs/chat/users/carol { return 404; }
    location = /_svc/hubs/chat/users/dave { return 500; }
    location = /_svc/hubs/chat/connections/c1/:invoke {
        default_type application/json;
        return 200 '{"result":{"answer":42,"text":"\u00e9"}}';
    }
    location = /_svc/hubs/chat/connections/c0/:invoke {
        default_type application/json;
        return 200 '{}';
    }
    location = /_svc/hubs/chat/connections/c2/:invoke {
        add_header x-ms-error-code Error.Connection.NotExisted always;
        default_type application/json;
        return 404 '{"code":"Error.Connection.NotExisted","message":"The connection does not exist."}';
    }
    location = /_svc/hubs/chat/connections/c3/:invoke {
        add_header x-ms-error-code Error.Invocation.Failed always;
        default_type application/json;
        return 500 '{"code":"Error.Invocation.Failed","message":"Invocation failed: boom"}';
    }
    location = /_svc/hubs/chat/connections/c4/:invoke {
        default_type application/json;
        return 200 'not json';
    }
    location = /_svc/hubs/chat/groups/g1/connections {
        default_type application/json;
        if ($arg_continuationToken = t2) {
            return 200 '{"value":[{"connectionId":"c2","userId":null},{"connectionId":"c3"}]}';
        }
        return 200 '{"value":[{"connectionId":"c1","userId":"u1"}],"nextLink":"https://contoso.service.signalr.net/api/hubs/chat/groups/g1/connections?maxpagesize=200&continuationToken=t2&api-version=2024-12-01"}';
    }
    location = /_svc/hubs/chat/groups/g2/connections {
        default_type application/json;
        return 200 '{"value":[],"nextLink":"https://contoso.service.signalr.net/api/hubs/chat/:send?x=1"}';
    }
    location = /_svc/hubs/chat/groups/g3/connections {
        default_type application/json;
        return 200 '{"value":[{"userId":"u"}]}';
    }
    location = /_svc/hubs/chat/users/b/:send {
        add_header x-ms-error-code Error.Request.Invalid always;
        return 400;
    }
_EOS_

our %MOCK = (
    '/_signalr/' => 'location /_signalr/ { internal; '
        . 'proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT; }',
    '/api/' => 'location /api/ { access_log logs/rest.log rest; '
        . 'proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_svc/; }',
    '/_svc/' => $SVC,
    '= /rest.log' => 'location = /rest.log { alias logs/rest.log; }',
);

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config",
                          "signalr_endpoint \"$CS_A\" rest=/_signalr;\n"
                          . "    $LOG");
    }

    my $config = $block->config;
    return unless defined $config;

    for my $loc (sort keys %MOCK) {
        next if $config =~ /location \Q$loc\E /;
        $config .= "\n    $MOCK{$loc}";
    }

    $block->set_value("config", "$config\n");
});

# the answers as they are, then the REST log (its entries sorted: calls of
# one action go out at once)
sub bodies {
    my ($n) = @_;
    return [([sub { $_[0] }]) x $n, [\&SignalRTest::rest_log, \&sorted]];
}

sub sorted {
    my @e = $_[0] =~ /^(\S.*\n(?:  .*\n)*)/mg;
    return CORE::join "", sort @e;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: closeConnections: the hub, a group with excluded and reason, a user
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n{\"action\":\"closeConnections\"}",
 "POST /out\r\n{\"action\":\"closeConnections\",\"groupName\":\"g 1\",\"excluded\":[\"c1\",\"c/2\"],\"reason\":\"bye now\"}",
 "POST /out\r\n{\"action\":\"closeConnections\",\"userId\":\"u\"}",
 "GET /rest.log"]
--- error_code eval
[202, 202, 202, 200]
--- response_body_filters eval
main::bodies(3)
--- response_body eval
['{"completed":1,"total":1}', '{"completed":1,"total":1}',
 '{"completed":1,"total":1}',
'POST /api/hubs/chat/:closeConnections?api-version=2022-06-01
  token A contoso.service.signalr.net
POST /api/hubs/chat/groups/g%201/:closeConnections?api-version=2022-06-01&excluded=c1&excluded=c%2F2&reason=bye%20now
  token A contoso.service.signalr.net
POST /api/hubs/chat/users/u/:closeConnections?api-version=2022-06-01
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 2: exists: there (200) and not there (404 with the route's x-ms-error-code), each HEAD route
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n{\"action\":\"exists\",\"userId\":\"alice\"}",
 "POST /out\r\n{\"action\":\"exists\",\"userId\":\"bob\"}",
 "POST /out\r\n{\"action\":\"exists\",\"connectionId\":\"c1\"}",
 "POST /out\r\n{\"action\":\"exists\",\"connectionId\":\"c2\"}",
 "POST /out\r\n{\"action\":\"exists\",\"groupName\":\"g1\"}",
 "POST /out\r\n{\"action\":\"exists\",\"groupName\":\"g2\"}",
 "POST /out\r\n{\"action\":\"exists\",\"userId\":\"alice\",\"groupName\":\"g1\"}",
 "POST /out\r\n{\"action\":\"exists\",\"userId\":\"alice\",\"groupName\":\"g2\"}",
 "GET /rest.log"]
--- error_code eval
[200, 404, 200, 404, 200, 404, 200, 404, 200]
--- response_body_filters eval
main::bodies(8)
--- response_body eval
['{"exists":true}', '{"exists":false}', '{"exists":true}', '{"exists":false}',
 '{"exists":true}', '{"exists":false}', '{"exists":true}', '{"exists":false}',
'HEAD /api/hubs/chat/connections/c1?api-version=2022-06-01
  token A contoso.service.signalr.net
HEAD /api/hubs/chat/connections/c2?api-version=2022-06-01
  token A contoso.service.signalr.net
HEAD /api/hubs/chat/groups/g1?api-version=2022-06-01
  token A contoso.service.signalr.net
HEAD /api/hubs/chat/groups/g2?api-version=2022-06-01
  token A contoso.service.signalr.net
HEAD /api/hubs/chat/users/alice/groups/g1?api-version=2022-06-01
  token A contoso.service.signalr.net
HEAD /api/hubs/chat/users/alice/groups/g2?api-version=2022-06-01
  token A contoso.service.signalr.net
HEAD /api/hubs/chat/users/alice?api-version=2022-06-01
  token A contoso.service.signalr.net
HEAD /api/hubs/chat/users/bob?api-version=2022-06-01
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 3: exists: a 404 without the route's code is a failure (no "false" from a REST location that finds no route), a 5xx too
--- config
    location = /out { signalr_output chat; signalr_rest_retries 0; }
--- request eval
["POST /out\r\n{\"action\":\"exists\",\"userId\":\"carol\"}",
 "POST /out\r\n{\"action\":\"exists\",\"userId\":\"dave\"}"]
--- error_code eval
[404, 502]
--- response_body eval
['{"error":"user exists: the service refused it","failed":0,"endpoint":"contoso.service.signalr.net","status":404,"errorCode":null,"completed":0,"total":1}',
 '{"error":"user exists: the service failed","failed":0,"endpoint":"contoso.service.signalr.net","status":500,"errorCode":null,"completed":0,"total":1}']



=== TEST 4: exists in a templated location, as auth_request: 2xx lets in, signalr_exists_status 403 keeps out; $signalr_exists
--- config
    location = /_connected {
        internal;
        signalr_output chat;
        signalr_action exists;
        signalr_user_id $http_x_user;
        signalr_exists_status 403;
    }
    location = /app {
        auth_request /_connected;
        auth_request_set $exists $signalr_exists;
        add_header X-Exists $exists always;
        try_files /nothing-here =204;
    }
    location = /check {
        signalr_output chat;
        signalr_action exists;
        signalr_user_id $http_x_user;
        add_header X-Exists $signalr_exists always;
    }
--- request eval
["GET /app", "GET /app", "GET /check", "HEAD /check", "POST /check", "PUT /check"]
--- more_headers eval
["X-User: alice", "X-User: bob", "X-User: bob", "X-User: alice", "X-User: alice", "X-User: alice"]
--- error_code eval
[204, 403, 404, 200, 200, 405]
--- response_headers eval
["X-Exists: true", "X-Exists: false", "X-Exists: false", "X-Exists: true", "X-Exists: true", "Allow: GET, HEAD, POST"]
--- response_body eval
["", qr/403 Forbidden/, '{"exists":false}', "", '{"exists":true}',
 '{"error":"this signalr_output takes GET, HEAD or POST"}']
--- no_error_log
[error]



=== TEST 5: invoke: the client's result as JSON (2024-12-01, the audience too), a completion without one as null
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n{\"action\":\"invoke\",\"connectionId\":\"c1\",\"target\":\"getAnswer\",\"arguments\":[1,\"x\"]}",
 "POST /out\r\n{\"action\":\"invoke\",\"connectionId\":\"c0\",\"target\":\"ping\"}",
 "GET /rest.log"]
--- error_code eval
[200, 200, 200]
--- response_body_filters eval
main::bodies(2)
--- response_body eval
['{"result":{"answer":42,"text":"é"}}', '{"result":null}',
'POST /api/hubs/chat/connections/c0/:invoke?api-version=2024-12-01
  body {"target":"ping","arguments":[]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/connections/c1/:invoke?api-version=2024-12-01
  body {"target":"getAnswer","arguments":[1,"x"]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 6: invoke failures, each told apart and never retried: no connection, the client's error (the service's message as detail), an answer not understood
--- config
    location = /out { signalr_output chat; signalr_rest_retries 2; }
--- request eval
["POST /out\r\n{\"action\":\"invoke\",\"connectionId\":\"c2\",\"target\":\"t\"}",
 "POST /out\r\n{\"action\":\"invoke\",\"connectionId\":\"c3\",\"target\":\"t\"}",
 "POST /out\r\n{\"action\":\"invoke\",\"connectionId\":\"c4\",\"target\":\"t\"}",
 "GET /rest.log"]
--- error_code eval
[404, 502, 502, 200]
--- response_body_filters eval
main::bodies(3)
--- response_body eval
['{"error":"invoke: the connection is not there","detail":"The connection does not exist.","failed":0,"endpoint":"contoso.service.signalr.net","status":404,"errorCode":"Error.Connection.NotExisted","completed":0,"total":1}',
 '{"error":"invoke: the invocation failed","detail":"Invocation failed: boom","failed":0,"endpoint":"contoso.service.signalr.net","status":500,"errorCode":"Error.Invocation.Failed","completed":0,"total":1}',
 '{"error":"invoke: the service gave an unexpected answer","failed":0,"endpoint":"contoso.service.signalr.net","status":200,"errorCode":null,"completed":0,"total":1}',
'POST /api/hubs/chat/connections/c2/:invoke?api-version=2024-12-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/connections/c3/:invoke?api-version=2024-12-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/connections/c4/:invoke?api-version=2024-12-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
']
--- no_error_log
offline



=== TEST 7: invoke: a client that does not answer within the REST location's proxy_read_timeout is a 504, not retried
--- config
    location = /out { signalr_output chat; signalr_rest_retries 2; }
    location /_signalr/ {
        internal;
        proxy_pass http://127.0.0.1:19890;
        proxy_read_timeout 300ms;
    }
--- tcp_listen: 19890
--- tcp_no_close
--- tcp_reply eval
""
--- request
POST /out
{"action":"invoke","connectionId":"c1","target":"t"}
--- error_code: 504
--- response_body chomp
{"error":"invoke: the client did not answer in time","failed":0,"endpoint":"contoso.service.signalr.net","status":504,"errorCode":null,"completed":0,"total":1}
--- no_error_log
retry
offline
--- timeout: 5



=== TEST 8: listConnections: the pages followed through nextLink (its path and query), the members in order
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n{\"action\":\"listConnections\",\"groupName\":\"g1\"}", "GET /rest.log"]
--- error_code eval
[200, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"connections":[{"connectionId":"c1","userId":"u1"},{"connectionId":"c2","userId":null},{"connectionId":"c3","userId":null}]}',
'GET /api/hubs/chat/groups/g1/connections?api-version=2024-12-01&maxpagesize=200
  token A contoso.service.signalr.net
GET /api/hubs/chat/groups/g1/connections?maxpagesize=200&continuationToken=t2&api-version=2024-12-01
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 9: listConnections: a nextLink to another path and a member without connectionId are not followed or kept: 502
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n{\"action\":\"listConnections\",\"groupName\":\"g2\"}",
 "POST /out\r\n{\"action\":\"listConnections\",\"groupName\":\"g3\"}",
 "GET /rest.log"]
--- error_code eval
[502, 502, 200]
--- response_body_filters eval
main::bodies(2)
--- response_body eval
['{"error":"list connections: the service gave an unexpected answer","failed":0,"endpoint":"contoso.service.signalr.net","status":200,"errorCode":null,"completed":0,"total":1}',
 '{"error":"list connections: the service gave an unexpected answer","failed":0,"endpoint":"contoso.service.signalr.net","status":200,"errorCode":null,"completed":0,"total":1}',
'GET /api/hubs/chat/groups/g2/connections?api-version=2024-12-01&maxpagesize=200
  token A contoso.service.signalr.net
GET /api/hubs/chat/groups/g3/connections?api-version=2024-12-01&maxpagesize=200
  token A contoso.service.signalr.net
']



=== TEST 9b: listConnections: the page not understood is logged for the operator
--- config
    location = /out { signalr_output chat; }
--- request
POST /out
{"action":"listConnections","groupName":"g2"}
--- error_code: 502
--- error_log
answered REST call "list connections" with a page that is not a list of connections, or a nextLink that is not a URL of the same path (page 1)



=== TEST 10: several recipients: a call each, all sent, a result per recipient
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n[{\"target\":\"t\",\"userIds\":[\"a\",\"c\"]},{\"action\":\"add\",\"connectionIds\":[\"c1\",\"c2\"],\"groupName\":\"g\"}]",
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":2,"total":2,"recipients":[{"action":0,"userId":"a","completed":true},{"action":0,"userId":"c","completed":true},{"action":1,"connectionId":"c1","completed":true},{"action":1,"connectionId":"c2","completed":true}]}',
'POST /api/hubs/chat/users/a/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/users/c/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
PUT /api/hubs/chat/groups/g/connections/c1?api-version=2022-06-01
  token A contoso.service.signalr.net
PUT /api/hubs/chat/groups/g/connections/c2?api-version=2022-06-01
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 11: several recipients, one refused: the others still sent, the next action not; the failure told per recipient
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n[{\"target\":\"t\",\"userIds\":[\"a\",\"b\",\"c\"]},{\"target\":\"next\"}]",
 "GET /rest.log"]
--- error_code eval
[400, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"error":"send to user: the service refused it","failed":0,"endpoint":"contoso.service.signalr.net","status":400,"errorCode":"Error.Request.Invalid","completed":0,"total":2,"recipients":[{"action":0,"userId":"a","completed":true},{"action":0,"userId":"b","completed":false,"status":400,"errorCode":"Error.Request.Invalid","error":"the service refused it"},{"action":0,"userId":"c","completed":true}]}',
'POST /api/hubs/chat/users/a/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/users/b/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/users/c/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
']



=== TEST 12: an action with an answer of its own is alone; recipients bounded
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n[{\"target\":\"t\"},{\"action\":\"exists\",\"userId\":\"u\"}]",
 "POST /out\r\n{\"target\":\"t\",\"userIds\":[\"a\",\"a\"]}",
 "POST /out\r\n{\"action\":\"invoke\",\"connectionId\":\"c\"}"]
--- error_code eval
[400, 400, 400]
--- response_body eval
['{"error":"action 1: \"exists\" must be the only action: it has an answer of its own"}',
 '{"error":"\"userIds\" item 1 repeats item 0"}',
 '{"error":"\"invoke\" needs \"target\""}']
--- no_error_log
[error]



=== TEST 13: signalr_action in templated locations: invoke and list_connections, GET for a list
--- config
    location = /ask {
        signalr_output chat;
        signalr_action invoke;
        signalr_connection_id $arg_c;
        signalr_target getAnswer;
        signalr_arguments '[1]';
    }
    location = /members {
        signalr_output chat;
        signalr_action list_connections;
        signalr_group $arg_g;
    }
    location = /close {
        signalr_output chat;
        signalr_action close_connections;
        signalr_group $arg_g;
    }
--- request eval
["POST /ask?c=c1", "GET /members?g=g1", "POST /close?g=g1", "GET /close?g=g1"]
--- error_code eval
[200, 200, 202, 405]
--- response_body eval
['{"result":{"answer":42,"text":"é"}}',
 '{"connections":[{"connectionId":"c1","userId":"u1"},{"connectionId":"c2","userId":null},{"connectionId":"c3","userId":null}]}',
 '{"completed":1,"total":1}',
 '{"error":"signalr_output takes POST"}']
--- no_error_log
[error]



=== TEST 14: signalr_action needs what the action takes
--- config
    location = /a { signalr_output chat; signalr_action invoke; signalr_target t; }
--- must_die
--- error_log
"signalr_action invoke" needs "signalr_target" and "signalr_connection_id"



=== TEST 15: list_connections needs a group
--- config
    location = /a { signalr_output chat; signalr_action list_connections; }
--- must_die
--- error_log
"signalr_action list_connections" needs "signalr_group"



=== TEST 16: exists needs something to check; a target goes only with invoke
--- config
    location = /a { signalr_output chat; signalr_action exists; }
--- must_die
--- error_log
"signalr_action exists" needs "signalr_connection_id", "signalr_user_id" or "signalr_group"



=== TEST 17: a target goes only with invoke
--- config
    location = /a { signalr_output chat; signalr_action close_connections; signalr_target t; }
--- must_die
--- error_log
"signalr_target" and "signalr_action close_connections" cannot be used together



=== TEST 18: signalr_exists_status takes what auth_request or the REST API says
--- config
    location = /a { signalr_output chat; signalr_action exists; signalr_user_id u; signalr_exists_status 500; }
--- must_die
--- error_log
"signalr_exists_status" directive must be 200, 401, 403 or 404



=== TEST 19: signalr_action is one per location
--- config
    location = /a { signalr_output chat; signalr_action exists; signalr_group_action add; signalr_user_id u; }
--- must_die
--- error_log
"signalr_group_action" directive is duplicate



=== TEST 20: several endpoints: exists is true when any says so, false when every one says not, a failure when one fails and none says so; an invoke is answered by the endpoint that holds the connection
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=a rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=b rest=/_signalr_b;
    map \"\$http_x_ep \$request_uri\" \$answer {
        \"~^b .*/users/alice\\?\" 200;
        \"~^b .*/users/zed\\?\" 500;
        \"~ .*/users/\\w+\\?\" 404;
        \"~^b .*/connections/c9/:invoke\" ok;
        \"~ .*/connections/c9/:invoke\" 404;
    }
    map \$request_uri \$code {
        \"~/users/\" Warning.User.NotExisted;
        default Error.Connection.NotExisted;
    }
    $::LOG"
--- config
    location = /out { signalr_output chat; signalr_rest_retries 0; }
    location /_signalr_b/ {
        internal;
        proxy_set_header X-Ep b;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /_svc/ {
        default_type application/json;
        if ($answer = 200) { return 200; }
        if ($answer = 500) { return 500; }
        if ($answer = ok) { return 200 '{"result":"from b"}'; }
        if ($answer = 404) {
            add_header x-ms-error-code $code always;
            return 404 '{}';
        }
        return 400;
    }
--- request eval
['POST /out
{"action":"exists","userId":"alice"}',
 'POST /out
{"action":"exists","userId":"bob"}',
 'POST /out
{"action":"invoke","connectionId":"c9","target":"t"}',
 'POST /out
{"action":"exists","userId":"zed"}']
--- error_code eval
[200, 404, 200, 502]
--- response_body eval
['{"exists":true}', '{"exists":false}', '{"result":"from b"}',
 '{"error":"user exists: the service failed","failed":0,"endpoint":"b","status":500,"errorCode":null,"completed":0,"total":1,"endpoints":[{"name":"a","completed":1},{"name":"b","completed":0,"failures":[{"action":0,"status":500,"errorCode":null,"error":"the service failed"}]}]}']



=== TEST 21: an existence check and a list are idempotent: tried again after a 500; an invoke never is
--- config
    location = /out { signalr_output chat; signalr_rest_retries 1; }
    location /_svc/ { return 500; }
--- request eval
['POST /out
{"action":"exists","userId":"u"}',
 'POST /out
{"action":"listConnections","groupName":"g"}',
 'POST /out
{"action":"invoke","connectionId":"c7","target":"t"}',
 "GET /rest.log"]
--- error_code eval
[502, 502, 502, 200]
--- response_body_filters eval
main::bodies(3)
--- response_body eval
['{"error":"user exists: the service failed","failed":0,"endpoint":"contoso.service.signalr.net","status":500,"errorCode":null,"completed":0,"total":1}',
 '{"error":"list connections: the service failed","failed":0,"endpoint":"contoso.service.signalr.net","status":500,"errorCode":null,"completed":0,"total":1}',
 '{"error":"invoke: the service failed","failed":0,"endpoint":"contoso.service.signalr.net","status":500,"errorCode":null,"completed":0,"total":1}',

'GET /api/hubs/chat/groups/g/connections?api-version=2024-12-01&maxpagesize=200
  token A contoso.service.signalr.net
GET /api/hubs/chat/groups/g/connections?api-version=2024-12-01&maxpagesize=200
  token A contoso.service.signalr.net
HEAD /api/hubs/chat/users/u?api-version=2022-06-01
  token A contoso.service.signalr.net
HEAD /api/hubs/chat/users/u?api-version=2022-06-01
  token A contoso.service.signalr.net
POST /api/hubs/chat/connections/c7/:invoke?api-version=2024-12-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
']



=== TEST 22: several endpoints and several recipients: each endpoint's failures name the action, notSent counts actions, the recipients' outcome over both endpoints
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=a22 rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=b22 rest=/_signalr_b;
    map \"\$http_x_ep \$uri\" \$refuse {
        \"b /_svc/hubs/chat/users/y/:send\" 1;
    }
    $::LOG"
--- config
    location = /out { signalr_output chat; signalr_rest_retries 0; }
    location /_signalr_b/ {
        internal;
        proxy_set_header X-Ep b;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /_svc/ {
        if ($refuse) { return 400; }
        return 202 '{}';
    }
--- request eval
['POST /out
[{"target":"t"},{"target":"t","userIds":["x","y"]},{"target":"t","groupName":"g"},{"target":"t","userId":"z"}]']
--- error_code: 400
--- response_body chomp
{"error":"send to user: the service refused it","failed":1,"endpoint":"b22","status":400,"errorCode":null,"completed":1,"total":4,"recipients":[{"action":1,"userId":"x","completed":true},{"action":1,"userId":"y","completed":false,"status":400,"errorCode":null,"error":"the service refused it"}],"endpoints":[{"name":"a22","completed":5},{"name":"b22","completed":2,"failures":[{"action":1,"status":400,"errorCode":null,"error":"the service refused it"}],"notSent":2}]}



=== TEST 23: an invoke the service answers 408 is a client that did not answer in time: 504, not retried
--- config
    location = /out { signalr_output chat; signalr_rest_retries 2; }
    location /_signalr/ {
        internal;
        proxy_pass http://127.0.0.1:19891;
    }
--- tcp_listen: 19891
--- tcp_reply eval
"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
--- request
POST /out
{"action":"invoke","connectionId":"c1","target":"t"}
--- error_code: 504
--- response_body chomp
{"error":"invoke: the client did not answer in time","failed":0,"endpoint":"contoso.service.signalr.net","status":408,"errorCode":null,"completed":0,"total":1}
--- no_error_log
retry
[error]



=== TEST 24: an exists rule reads no body: an upload of any size goes on to the protected location untouched; the check location itself takes a large body too
--- config
    location = /_connected {
        internal;
        signalr_output chat;
        signalr_action exists;
        signalr_user_id $http_x_user;
        signalr_exists_status 403;
    }
    location = /upload {
        auth_request /_connected;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_echo_length;
    }
    location = /_echo_length { return 200 "$http_content_length\n"; }
    location = /check {
        signalr_output chat;
        signalr_action exists;
        signalr_user_id $http_x_user;
        signalr_output_max_body 1k;
    }
--- request eval
["POST /upload\r\n" . ("x" x 2000000), "POST /upload\r\n" . ("x" x 2000000), "POST /check\r\n" . ("x" x 5000)]
--- more_headers eval
["X-User: alice", "X-User: bob", "X-User: alice"]
--- error_code eval
[200, 403, 200]
--- response_body eval
["2000000\n", qr/403 Forbidden/, '{"exists":true}']
--- no_error_log
[error]



=== TEST 25: the failure told for an action not sent is the one that ended the run, not a later 404 where a connection was not
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=a25 rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=b25 rest=/_signalr_b;
    map \"\$http_x_ep \$uri\" \$answer {
        \"~^ /_svc/hubs/chat/connections/c1/\" 500;
        \"~^ /_svc/hubs/chat/connections/c2/\" 404;
    }
    $::LOG"
--- config
    location = /out { signalr_output chat; signalr_rest_retries 0; }
    location /_signalr_b/ {
        internal;
        proxy_set_header X-Ep b;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /_svc/ {
        if ($answer = 500) { return 500; }
        if ($answer = 404) {
            add_header x-ms-error-code Warning.Connection.NotExisted always;
            return 404 '{}';
        }
        return 202 '{}';
    }
--- request
POST /out
[{"target":"t","connectionIds":["c1","c2"]},{"target":"t"}]
--- error_code: 502
--- response_body eval
'{"error":"broadcast: the service failed","failed":1,"endpoint":"a25","status":500,"errorCode":null,"completed":1,"total":2,"recipients":[{"action":0,"connectionId":"c1","completed":true},{"action":0,"connectionId":"c2","completed":true}],"endpoints":[{"name":"a25","completed":0,"failures":[{"action":0,"status":500,"errorCode":null,"error":"the service failed"},{"action":0,"status":404,"errorCode":"Warning.Connection.NotExisted","error":"the service refused it"}],"notSent":1},{"name":"b25","completed":3}]}'



=== TEST 26: exists asks an offline endpoint too: the one left out may hold the user
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=a26 rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=b26 rest=/_signalr_b;
    map \"\$http_x_ep \$uri\" \$answer {
        \"b /_svc/hubs/chat/:send\" 500;
        \"b /_svc/hubs/chat/users/alice\" 200;
        \"~ /_svc/hubs/chat/users/\" 404;
    }
    $::LOG"
--- config
    location = /out { signalr_output chat; signalr_rest_retries 0; }
    location /_signalr_b/ {
        internal;
        proxy_set_header X-Ep b;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /_svc/ {
        if ($answer = 500) { return 500; }
        if ($answer = 200) { return 200; }
        if ($answer = 404) {
            add_header x-ms-error-code Warning.User.NotExisted always;
            return 404 '{}';
        }
        return 202 '{}';
    }
--- request eval
['POST /out
{"target":"t"}',
 'POST /out
{"action":"exists","userId":"alice"}',
 'POST /out
{"action":"exists","userId":"bob"}']
--- error_code eval
[502, 200, 404]
--- response_body eval
[qr/"endpoint":"b26","status":500/, '{"exists":true}', '{"exists":false}']



=== TEST 27: recipients count as actions; a nextLink with a space is not followed
--- config
    location = /out { signalr_output chat; }
    location = /_svc/hubs/chat/groups/g9/connections {
        default_type application/json;
        return 200 '{"value":[],"nextLink":"https://contoso.service.signalr.net/api/hubs/chat/groups/g9/connections?a=b c"}';
    }
--- request eval
["POST /out\r\n[{\"target\":\"t\",\"userIds\":[" . join(",", map { "\"a$_\"" } 1 .. 60) . "]},{\"target\":\"t\",\"userIds\":[" . join(",", map { "\"b$_\"" } 1 .. 41) . "]}]",
 "POST /out\r\n{\"action\":\"listConnections\",\"groupName\":\"g9\"}"]
--- error_code eval
[400, 502]
--- response_body eval
['{"error":"more than 100 actions (each recipient counts as one)"}',
 '{"error":"list connections: the service gave an unexpected answer","failed":0,"endpoint":"contoso.service.signalr.net","status":200,"errorCode":null,"completed":0,"total":1}']



=== TEST 28: a templated action refuses a directive it would not use
--- config
    location = /a { signalr_output chat; signalr_action exists; signalr_connection_id $arg_c; signalr_user_id $arg_u; }
--- must_die
--- error_log
"signalr_action exists" does not use "signalr_user_id"



=== TEST 29: the same for list_connections and invoke
--- config
    location = /a { signalr_output chat; signalr_action list_connections; signalr_group g; signalr_connection_id c; }
    location = /b { signalr_output chat; signalr_action invoke; signalr_target t; signalr_connection_id c; signalr_group g; }
--- must_die
--- error_log
"signalr_action list_connections" does not use "signalr_connection_id"



=== TEST 30: a HEAD to a templated exists location of two endpoints ends (its REST calls, two subrequests, were never let go: the connection stayed open), with the answer's headers and no body
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=a30 rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=b30 rest=/_signalr;
    $::LOG"
--- config
    location = /exists {
        signalr_output chat;
        signalr_action exists;
        signalr_user_id $arg_user;
    }
--- request eval
["HEAD /exists?user=alice", "HEAD /exists?user=bob", "GET /exists?user=alice"]
--- error_code eval
[200, 404, 200]
--- response_body eval
["", "", '{"exists":true}']
--- timeout: 5
--- no_error_log
[error]
