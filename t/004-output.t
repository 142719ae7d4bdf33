# signalr_output: JSON actions and templated locations turned into SignalR
# REST calls, sent as subrequests through a real proxy_pass to a REST mock
# served by the same nginx (location /api/), whose access log records each
# call as it arrived: method, URI, the headers that matter, the body. The
# tokens in that log are verified by SignalRTest::rest_log.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;

our $CS_A = 'Endpoint=https://contoso.service.signalr.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
our $CS_EAST = 'Endpoint=https://east.example.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
our $CS_WEST = 'Endpoint=https://west.example.net;'
    . "AccessKey=$SignalRTest::KEYS{B};Version=1.0;";

# an upstream call of the service (t/003-trigger.t): its connection and
# signature with key S1
our $CID = '0f9c97a2f0bf4706afe87a14e0797b11';
our $SIG1 = 'sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561';

sub upstream_headers {
    my ($category, $event) = @_;
    return "X-ASRS-Connection-Id: $CID\nX-ASRS-Hub: Chat\n"
        . "X-ASRS-Category: $category\nX-ASRS-Event: $event\n"
        . "X-ASRS-Signature: $SIG1\nContent-Type: application/json\n";
}

# the REST mock's log
our $LOG = q{log_format rest escape=none '$request_method $request_uri|}
    . q{$http_authorization|$http_content_type|$http_asrs_user_agent|}
    . q{$http_cookie|$request_body';};

# unless a test writes its own: the REST location (proxy_pass with no URI
# part, as docs/output.md recommends), the mock, a sink answering 202, and
# the mock's log for the last request of a test
our %MOCK = (
    '/_signalr/' => 'location /_signalr/ { internal; '
        . 'proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT; }',
    '/api/' => 'location /api/ { access_log logs/rest.log rest; '
        . 'proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/_sink/; }',
    '/_sink/' => q{location /_sink/ { return 202 '{}'; }},
    '= /rest.log' => 'location = /rest.log { alias logs/rest.log; }',
    '= /error.log' => 'location = /error.log { alias logs/error.log; }',
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

# the response bodies of a test: the output answers as they are, the log
# through rest_log
sub bodies {
    my ($n, $sorted) = @_;
    return [([sub { $_[0] }]) x $n, rest_filters($sorted)];
}

# with several endpoints the calls go out in parallel: the log's entries
# grouped by endpoint (the host in their token), in order within each
sub by_endpoint {
    my $i = 0;
    my @e = map { [/token \S+ (\S+)/ ? $1 : '', $i++, $_] }
            $_[0] =~ /^(\S.*\n(?:  .*\n)*)/mg;
    return CORE::join "", map { $_->[2] }
        sort { $a->[0] cmp $b->[0] || $a->[1] <=> $b->[1] } @e;
}

sub rest_filters {
    my ($sorted) = @_;
    return $sorted ? [\&SignalRTest::rest_log, \&by_endpoint]
                   : [\&SignalRTest::rest_log];
}

# the same with the error log last, reduced to what matches $re in each
# line: Test::Nginx checks the error log request by request, so a test of
# several requests reads it through "GET /error.log"
sub bodies_errors {
    my ($n, $re, $sorted) = @_;
    my $grep = sub {
        my @m;
        for (split /\n/, $_[0]) {
            s/(?: while [^,]*)?, client: .*//;
            push @m, $& if /$re/;
        }
        s/^\[(\w+)\] \d+#\d+: (?:\*\d+ )?/[$1] / for @m;
        return join "", map { "$_\n" } @m;
    };
    return [([sub { $_[0] }]) x $n, rest_filters($sorted), [$grep]];
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: broadcast: the hub lower-cased, arguments as given
--- config
    location = /out { signalr_output Chat; }
--- request eval
["POST /out\r\n{\"target\":\"newMessage\",\"arguments\":[\"hi\",{\"n\":1.5,\"b\":true,\"z\":null},[1,2],\"\\u00e9\\\"\"]}",
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_headers eval
["Content-Type: application/json", "Content-Type: text/plain"]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":1,"total":1}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"newMessage","arguments":["hi",{"n":1.5,"b":true,"z":null},[1,2],"é\""]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]
[warn]



=== TEST 2: broadcast excluding connections, no arguments
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n{\"target\":\"ping\",\"excluded\":[\"c1\",\"c2\"]}", "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":1,"total":1}',
'POST /api/hubs/chat/:send?api-version=2022-06-01&excluded=c1&excluded=c2
  body {"target":"ping","arguments":[]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 3: send to a user (userId wins over groupName, as in the binding)
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n{\"target\":\"newMessage\",\"userId\":\"alice\",\"groupName\":\"ignored\",\"arguments\":[1]}",
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":1,"total":1}',
'POST /api/hubs/chat/users/alice/:send?api-version=2022-06-01
  body {"target":"newMessage","arguments":[1]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 4: send to a group excluding a connection
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n{\"target\":\"t\",\"groupName\":\"Room1\",\"excluded\":[\"c1\"],\"arguments\":[]}",
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":1,"total":1}',
'POST /api/hubs/chat/groups/Room1/:send?api-version=2022-06-01&excluded=c1
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 5: send to a connection (connectionId wins over userId)
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n{\"target\":\"t\",\"connectionId\":\"conn1\",\"userId\":\"alice\",\"arguments\":[\"x\"]}",
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":1,"total":1}',
'POST /api/hubs/chat/connections/conn1/:send?api-version=2022-06-01
  body {"target":"t","arguments":["x"]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 6: every group action and close, in array order
--- config
    location = /out { signalr_output chat; }
--- request eval
['POST /out
[{"action":"add","groupName":"g1","connectionId":"c1"},
 {"action":"remove","groupName":"g1","connectionId":"c1"},
 {"action":"removeAll","connectionId":"c1"},
 {"action":"add","groupName":"g1","userId":"u1","ttl":3600},
 {"action":"add","groupName":"g1","userId":"u1"},
 {"action":"remove","groupName":"g1","userId":"u1"},
 {"action":"removeAll","userId":"u1"},
 {"action":"close","connectionId":"c1","reason":"bye now"},
 {"action":"close","connectionId":"c2"}]',
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":9,"total":9}',
'PUT /api/hubs/chat/groups/g1/connections/c1?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/groups/g1/connections/c1?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/connections/c1/groups?api-version=2022-06-01
  token A contoso.service.signalr.net
PUT /api/hubs/chat/users/u1/groups/g1?api-version=2022-06-01&ttl=3600
  token A contoso.service.signalr.net
PUT /api/hubs/chat/users/u1/groups/g1?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/users/u1/groups/g1?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/users/u1/groups?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/connections/c1?api-version=2022-06-01&reason=bye%20now
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/connections/c2?api-version=2022-06-01
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 7: order matters: add to a group, send to it, leave, broadcast; other key casings
--- config
    location = /out { signalr_output chat; }
--- request eval
['POST /out
[{"Action":"Add","GroupName":"room","UserId":"bob"},
 {"TARGET":"hello","groupname":"room","Arguments":["hi room"]},
 {"action":"REMOVE","groupName":"room","userId":"bob"},
 {"target":"bye","arguments":[]}]',
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":4,"total":4}',
'PUT /api/hubs/chat/users/bob/groups/room?api-version=2022-06-01
  token A contoso.service.signalr.net
POST /api/hubs/chat/groups/room/:send?api-version=2022-06-01
  body {"target":"hello","arguments":["hi room"]}
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/users/bob/groups/room?api-version=2022-06-01
  token A contoso.service.signalr.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"bye","arguments":[]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 8: templated, Functions example "broadcast to all clients": the posted body is the argument
--- config
    location = /api/messages {
        signalr_output chat;
        signalr_target newMessage;
    }
--- request eval
["POST /api/messages\r\n{\"sender\":\"ann\",\"text\":\"hello\"}",
 "POST /api/messages\r\n\"just a string\"",
 "POST /api/messages\r\n 42 ",
 "GET /rest.log"]
--- error_code eval
[202, 202, 202, 200]
--- response_body_filters eval
main::bodies(3)
--- response_body eval
['{"completed":1,"total":1}', '{"completed":1,"total":1}',
 '{"completed":1,"total":1}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"newMessage","arguments":[{"sender":"ann","text":"hello"}]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"newMessage","arguments":["just a string"]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"newMessage","arguments":[42]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 9: a server-level signalr_user_id (for negotiate) does not make a templated location a send to a user
--- config
    signalr_user_id $arg_u;
    location = /negotiate { signalr_negotiate chat; }
    location = /api/messages {
        signalr_output chat;
        signalr_target newMessage;
    }
--- request eval
["POST /api/messages?u=ann\r\n\"hi\"",
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":1,"total":1}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"newMessage","arguments":["hi"]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 10: templated, Functions example "send to a user"
--- config
    location = /api/messages {
        signalr_output chat;
        signalr_target newMessage;
        signalr_user_id userId1;
    }
--- request eval
["POST /api/messages\r\n{\"text\":\"hello\"}", "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":1,"total":1}',
'POST /api/hubs/chat/users/userId1/:send?api-version=2022-06-01
  body {"target":"newMessage","arguments":[{"text":"hello"}]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 11: templated, Functions example "send to a group"
--- config
    location = /api/messages {
        signalr_output chat;
        signalr_target newMessage;
        signalr_group myGroup;
    }
--- request eval
["POST /api/messages\r\n{\"text\":\"hello\"}", "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":1,"total":1}',
'POST /api/hubs/chat/groups/myGroup/:send?api-version=2022-06-01
  body {"target":"newMessage","arguments":[{"text":"hello"}]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 12: templated, Functions examples "add user to a group" and "remove user from a group"
--- config
    location = /api/addToGroup {
        signalr_output chat;
        signalr_group_action add;
        signalr_user_id $arg_userId;
        signalr_group myGroup;
    }
    location = /api/removeFromGroup {
        signalr_output chat;
        signalr_group_action remove;
        signalr_user_id $arg_userId;
        signalr_group myGroup;
    }
--- request eval
["POST /api/addToGroup?userId=alice", "POST /api/removeFromGroup?userId=alice",
 "GET /rest.log"]
--- error_code eval
[202, 202, 200]
--- response_body_filters eval
main::bodies(2)
--- response_body eval
['{"completed":1,"total":1}', '{"completed":1,"total":1}',
'PUT /api/hubs/chat/users/alice/groups/myGroup?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/users/alice/groups/myGroup?api-version=2022-06-01
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 13: templated connection actions, remove_all for a connection and a user, and the user id from a header
--- config
    location = /join {
        signalr_output chat;
        signalr_group_action add;
        signalr_connection_id $http_x_connection;
        signalr_group $arg_g;
    }
    location = /leave-all {
        signalr_output chat;
        signalr_group_action remove_all;
        signalr_connection_id $http_x_connection;
    }
    location = /user-leave-all {
        signalr_output chat;
        signalr_group_action remove_all;
        signalr_user_id $http_x_ms_client_principal_id;
    }
--- more_headers
X-Connection: conn-7
X-MS-CLIENT-PRINCIPAL-ID: 6d0fa36c
--- request eval
["POST /join?g=room", "POST /leave-all", "POST /user-leave-all", "GET /rest.log"]
--- error_code eval
[202, 202, 202, 200]
--- response_body_filters eval
main::bodies(3)
--- response_body eval
['{"completed":1,"total":1}', '{"completed":1,"total":1}',
 '{"completed":1,"total":1}',
'PUT /api/hubs/chat/groups/room/connections/conn-7?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/connections/conn-7/groups?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/users/6d0fa36c/groups?api-version=2022-06-01
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 14: templated signalr_arguments (the body is then ignored), to a connection
--- config
    location = /notify {
        signalr_output chat;
        signalr_target notify;
        signalr_arguments '["$arg_kind", {"fixed": true}, 0.1]';
        signalr_connection_id $arg_c;
    }
--- request eval
["POST /notify?kind=ping&c=abc", "POST /notify?kind=pong&c=abc\r\nnot JSON", "GET /rest.log"]
--- error_code eval
[202, 202, 200]
--- response_body_filters eval
main::bodies(2)
--- response_body eval
['{"completed":1,"total":1}', '{"completed":1,"total":1}',
'POST /api/hubs/chat/connections/abc/:send?api-version=2022-06-01
  body {"target":"notify","arguments":["ping",{"fixed":true},0.1]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/connections/abc/:send?api-version=2022-06-01
  body {"target":"notify","arguments":["pong",{"fixed":true},0.1]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 15: templated bad input: 400 naming the problem, nothing sent
--- config
    location = /user {
        signalr_output chat;
        signalr_target newMessage;
        signalr_user_id $http_x_user;
    }
    location = /group {
        signalr_output chat;
        signalr_target newMessage;
        signalr_group $arg_g;
    }
    location = /args {
        signalr_output chat;
        signalr_target $arg_t;
        signalr_arguments $arg_a;
    }
    location = /join {
        signalr_output chat;
        signalr_group_action add;
        signalr_connection_id $arg_c;
        signalr_group $arg_g;
    }
    location = /blank {
        signalr_output chat;
        signalr_target t;
        signalr_group "  \t ";
    }
--- request eval
["POST /user\r\n{}",
 "POST /group?g=room",
 "POST /group?g=room\r\n{\"a\":",
 "POST /blank\r\n1",
 "POST /args?t=x&a={}",
 "POST /args?t=x&a=[",
 "POST /args?a=[]",
 "POST /join?g=room",
 "POST /join?c=c1",
 "GET /rest.log"]
--- error_code eval
[400, 400, 400, 400, 400, 400, 400, 400, 400, 200]
--- response_body_filters eval
main::bodies(9)
--- response_body eval
['{"error":"\"signalr_user_id\" is empty"}',
 '{"error":"the body is empty: it must be the JSON value sent as the message argument"}',
 '{"error":"invalid JSON at line 1, column 5: unexpected token near end of file"}',
 '{"error":"\"groupName\" must not be only white space"}',
 '{"error":"\"signalr_arguments\" must be a JSON array"}',
 '{"error":"\"signalr_arguments\" is not valid JSON: \']\' expected near end of file"}',
 '{"error":"\"signalr_target\" is empty"}',
 '{"error":"\"signalr_connection_id\" is empty"}',
 '{"error":"\"signalr_group\" is empty"}',
 '']
--- no_error_log
[error]



=== TEST 16: a templated id that is not UTF-8
--- config
    location = /user {
        signalr_output chat;
        signalr_target newMessage;
        signalr_user_id $http_x_user;
    }
--- more_headers eval
"X-User: caf\xe9\r\n"
--- request eval
["POST /user\r\n{}", "GET /rest.log"]
--- error_code eval
[400, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"error":"\"signalr_user_id\" is not valid UTF-8"}', '']
--- no_error_log
[error]



=== TEST 17: header isolation: the client's Cookie, Authorization and others never reach the service
--- config
    location = /out { signalr_output chat; }
--- more_headers
Cookie: session=secret-cookie
Authorization: Basic dXNlcjpzZWNyZXQ=
Content-Type: text/plain
Asrs-User-Agent: client-supplied
X-Forwarded-For: 10.0.0.1
--- request eval
["POST /out\r\n[{\"target\":\"t\",\"arguments\":[]},{\"action\":\"add\",\"groupName\":\"g\",\"userId\":\"u\"}]",
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":2,"total":2}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
PUT /api/hubs/chat/users/u/groups/g?api-version=2022-06-01
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 18: ids with / % ? # space + & = and non-ASCII reach the service escaped exactly once
--- config
    location = /out { signalr_output chat; }
--- request eval
['POST /out
[{"target":"t","userId":"a/b%c?d#e f+g&h=é😀","arguments":[]},
 {"target":"t","groupName":"g/1 %2F","excluded":["c?1#","c&2="],"arguments":[]},
 {"target":"t","connectionId":"~c-1_.x","arguments":[]},
 {"action":"add","groupName":"ü/ber","connectionId":"c/1"},
 {"action":"close","connectionId":"c/1","reason":"a b&c=d/é"}]',
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":5,"total":5}',
'POST /api/hubs/chat/users/a%2Fb%25c%3Fd%23e%20f%2Bg%26h%3D%C3%A9%F0%9F%98%80/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/groups/g%2F1%20%252F/:send?api-version=2022-06-01&excluded=c%3F1%23&excluded=c%262%3D
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/connections/~c-1_.x/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
PUT /api/hubs/chat/groups/%C3%BC%2Fber/connections/c%2F1?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/connections/c%2F1?api-version=2022-06-01&reason=a%20b%26c%3Dd%2F%C3%A9
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 19: several endpoints: each action goes to each endpoint, signed with its key
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=east rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=west type=secondary rest=/_signalr_west;
    $::LOG"
--- config
    location = /out { signalr_output chat; }
    location /_signalr_west/ { internal; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT; }
--- request eval
["POST /out\r\n[{\"target\":\"t\",\"arguments\":[1]},{\"action\":\"removeAll\",\"userId\":\"u\"}]",
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1, 1)
--- response_body eval
['{"completed":2,"total":2,"endpoints":[{"name":"east","completed":2},{"name":"west","completed":2}]}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[1]}
  token A east.example.net
DELETE /api/hubs/chat/users/u/groups?api-version=2022-06-01
  token A east.example.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[1]}
  token B west.example.net
DELETE /api/hubs/chat/users/u/groups?api-version=2022-06-01
  token B west.example.net
']
--- no_error_log
[error]



=== TEST 20: an endpoint that fails is offline for every worker: negotiate and later outputs skip it; the answer says where the action landed
--- http_config eval
"signalr_endpoint \"$::CS_WEST\" name=west rest=/_signalr;
    signalr_endpoint \"$::CS_EAST\" name=east rest=/_dead;
    $::LOG"
--- config
    signalr_rest_retries 0;
    location = /out { signalr_output chat; }
    location = /neg { signalr_negotiate chat; return 200 "$signalr_client_url\n"; }
    location /_dead/ { internal; proxy_pass http://127.0.0.1:1; }
--- request eval
["POST /out\r\n{\"target\":\"t\",\"arguments\":[1]}",
 "POST /out\r\n{\"target\":\"t\",\"arguments\":[2]}",
 ("GET /neg") x 8,
 "GET /rest.log", "GET /error.log"]
--- error_code eval
[502, 202, (200) x 8, 200, 200]
--- response_body_filters eval
main::bodies_errors(10, qr/\[(?:notice|info|warn|error)\] .*?signalr: .*/, 1)
--- response_body eval
['{"error":"broadcast: the service could not be reached","failed":0,"endpoint":"east","status":502,"errorCode":null,"completed":0,"total":1,"endpoints":[{"name":"west","completed":1},{"name":"east","completed":0,"failures":[{"action":0,"status":502,"errorCode":null,"error":"the service could not be reached"}]}]}',
 '{"completed":1,"total":1,"endpoints":[{"name":"west","completed":1},{"name":"east","completed":0,"skipped":1}]}',
 ("https://west.example.net/client/?hub=chat\n") x 8,
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[1]}
  token B west.example.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[2]}
  token B west.example.net
',
'[error] signalr: REST call "broadcast" to endpoint "east" failed with status 502 (no response: check the "rest=" location, the network and the endpoint\'s host) after 1 attempts (x-ms-error-code: none); the endpoint is marked offline for every worker for 30000ms
']



=== TEST 21: when every endpoint fails, every endpoint is tried again (none is left to skip); the operator hears once per endpoint going offline (endpoints of their own: a reload keeps the state of an endpoint by its name)
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=north rest=/_dead;
    signalr_endpoint \"$::CS_WEST\" name=south rest=/_dead;
    $::LOG"
--- config
    signalr_rest_retries 0;
    location = /out { signalr_output chat; }
    location /_dead/ { internal; proxy_pass http://127.0.0.1:1; }
--- request eval
[("POST /out\r\n{\"target\":\"t\"}") x 3, "GET /rest.log", "GET /error.log"]
--- error_code eval
[502, 502, 502, 200, 200]
--- response_body_filters eval
[([sub { $_[0] }]) x 3, [\&SignalRTest::rest_log],
 [sub { CORE::join "", sort map { /\[(notice|info|warn|error)\] .*?signalr: (.*?)(?: while [^,]*)?(?:, client: |$)/ ? "[$1] $2\n" : () } CORE::split /\n/, $_[0] }]]
--- response_body eval
[('{"error":"broadcast: the service could not be reached","failed":0,"endpoint":"north","status":502,"errorCode":null,"completed":0,"total":1,"endpoints":[{"name":"north","completed":0,"failures":[{"action":0,"status":502,"errorCode":null,"error":"the service could not be reached"}]},{"name":"south","completed":0,"failures":[{"action":0,"status":502,"errorCode":null,"error":"the service could not be reached"}]}]}') x 3,
 '',
'[error] REST call "broadcast" to endpoint "north" failed with status 502 (no response: check the "rest=" location, the network and the endpoint\'s host) after 1 attempts (x-ms-error-code: none); the endpoint is marked offline for every worker for 30000ms
[error] REST call "broadcast" to endpoint "south" failed with status 502 (no response: check the "rest=" location, the network and the endpoint\'s host) after 1 attempts (x-ms-error-code: none); the endpoint is marked offline for every worker for 30000ms
[warn] REST call "broadcast" to endpoint "north" failed with status 502 (no response: check the "rest=" location, the network and the endpoint\'s host) after 1 attempts (x-ms-error-code: none); the endpoint is still offline for every worker for 30000ms
[warn] REST call "broadcast" to endpoint "north" failed with status 502 (no response: check the "rest=" location, the network and the endpoint\'s host) after 1 attempts (x-ms-error-code: none); the endpoint is still offline for every worker for 30000ms
[warn] REST call "broadcast" to endpoint "south" failed with status 502 (no response: check the "rest=" location, the network and the endpoint\'s host) after 1 attempts (x-ms-error-code: none); the endpoint is still offline for every worker for 30000ms
[warn] REST call "broadcast" to endpoint "south" failed with status 502 (no response: check the "rest=" location, the network and the endpoint\'s host) after 1 attempts (x-ms-error-code: none); the endpoint is still offline for every worker for 30000ms
']



=== TEST 22: a send answered 500 is not retried (it may have been delivered): 502
--- config
    location = /out { signalr_output chat; }
    location /_sink/ { return 500; }
--- request eval
["POST /out\r\n{\"target\":\"t\",\"userId\":\"u\"}", "GET /rest.log", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::bodies_errors(1, qr/\[(?:info|warn|error)\] .*?signalr: .*/)
--- response_body eval
['{"error":"send to user: the service failed","failed":0,"endpoint":"contoso.service.signalr.net","status":500,"errorCode":null,"completed":0,"total":1}',
'POST /api/hubs/chat/users/u/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
',
'[error] signalr: REST call "send to user" to endpoint "contoso.service.signalr.net" failed with status 500 after 1 attempts (x-ms-error-code: none); the endpoint is marked offline for every worker for 30000ms
']



=== TEST 23: group actions are retried on 500 (signalr_rest_retries 2 by default), with a growing backoff
--- http_config eval
"signalr_endpoint \"$::CS_A\" name=retried rest=/_signalr;\n$::LOG"
--- config
    location = /out { signalr_output chat; }
    location /_sink/ { return 500; }
--- request eval
["POST /out\r\n{\"action\":\"add\",\"groupName\":\"g\",\"connectionId\":\"c\"}",
 "GET /rest.log", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::bodies_errors(1, qr/\[(?:info|warn|error)\] .*?signalr: .*/)
--- response_body eval
['{"error":"add connection to group: the service failed","failed":0,"endpoint":"retried","status":500,"errorCode":null,"completed":0,"total":1}',
'PUT /api/hubs/chat/groups/g/connections/c?api-version=2022-06-01
  token A contoso.service.signalr.net
PUT /api/hubs/chat/groups/g/connections/c?api-version=2022-06-01
  token A contoso.service.signalr.net
PUT /api/hubs/chat/groups/g/connections/c?api-version=2022-06-01
  token A contoso.service.signalr.net
',
'[warn] signalr: REST call "add connection to group" to endpoint "retried" got status 500, retry 1 of 2 in 100ms
[warn] signalr: REST call "add connection to group" to endpoint "retried" got status 500, retry 2 of 2 in 200ms
[error] signalr: REST call "add connection to group" to endpoint "retried" failed with status 500 after 3 attempts (x-ms-error-code: none); the endpoint is marked offline for every worker for 30000ms
']



=== TEST 24: group actions are retried on 408, sends are not
--- config
    location = /out { signalr_output chat; }
    location /_sink/ { try_files /nonexistent =404; error_page 404 =408 /_408; }
    location = /_408 { internal; return 200 '{}'; }
--- request eval
["POST /out\r\n{\"action\":\"remove\",\"groupName\":\"g\",\"userId\":\"u\"}",
 "POST /out\r\n{\"target\":\"t\",\"groupName\":\"g\"}",
 "GET /rest.log", "GET /error.log"]
--- error_code eval
[502, 502, 200, 200]
--- response_body_filters eval
main::bodies_errors(2, qr/\[(?:info|warn|error)\] .*?signalr: .*/)
--- response_body eval
['{"error":"remove user from group: the service gave an unexpected answer","failed":0,"endpoint":"contoso.service.signalr.net","status":408,"errorCode":null,"completed":0,"total":1}',
 '{"error":"send to group: the service gave an unexpected answer","failed":0,"endpoint":"contoso.service.signalr.net","status":408,"errorCode":null,"completed":0,"total":1}',
'DELETE /api/hubs/chat/users/u/groups/g?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/users/u/groups/g?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/users/u/groups/g?api-version=2022-06-01
  token A contoso.service.signalr.net
POST /api/hubs/chat/groups/g/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
',
'[warn] signalr: REST call "remove user from group" to endpoint "contoso.service.signalr.net" got status 408, retry 1 of 2 in 100ms
[warn] signalr: REST call "remove user from group" to endpoint "contoso.service.signalr.net" got status 408, retry 2 of 2 in 200ms
[error] signalr: REST call "remove user from group" to endpoint "contoso.service.signalr.net" got the unexpected status 408 (x-ms-error-code: none): check the "rest=" location, whose proxy_pass must name the service with no URI part
[error] signalr: REST call "send to group" to endpoint "contoso.service.signalr.net" got the unexpected status 408 (x-ms-error-code: none): check the "rest=" location, whose proxy_pass must name the service with no URI part
']



=== TEST 25: a send answered 503 is retried, then fails with 502; signalr_rest_retries
--- config
    location = /out { signalr_output chat; }
    location = /out3 { signalr_output chat; signalr_rest_retries 3; }
    location = /out0 { signalr_output chat; signalr_rest_retries 0; }
    location /_sink/ { return 503; }
--- request eval
["POST /out\r\n{\"target\":\"a\"}", "POST /out3\r\n{\"target\":\"b\"}",
 "POST /out0\r\n{\"target\":\"c\"}", "GET /rest.log", "GET /error.log"]
--- error_code eval
[502, 502, 502, 200, 200]
--- response_body_filters eval
[[sub { $_[0] }], [sub { $_[0] }], [sub { $_[0] }],
 [\&SignalRTest::rest_log, sub { CORE::join "", map { /"target":"(\w)"/ ? "$1\n" : () } CORE::split /\n/, $_[0] }],
 [sub { CORE::join "", map { /(retry \d+ of \d+ in \d+ms|after \d+ attempts)/ ? "$1\n" : () } CORE::split /\n/, $_[0] }]]
--- response_body eval
['{"error":"broadcast: the service failed","failed":0,"endpoint":"contoso.service.signalr.net","status":503,"errorCode":null,"completed":0,"total":1}',
 '{"error":"broadcast: the service failed","failed":0,"endpoint":"contoso.service.signalr.net","status":503,"errorCode":null,"completed":0,"total":1}',
 '{"error":"broadcast: the service failed","failed":0,"endpoint":"contoso.service.signalr.net","status":503,"errorCode":null,"completed":0,"total":1}',
 "a\na\na\nb\nb\nb\nb\nc\n",
 "retry 1 of 2 in 100ms
retry 2 of 2 in 200ms
after 3 attempts
retry 1 of 3 in 100ms
retry 2 of 3 in 200ms
retry 3 of 3 in 400ms
after 4 attempts
after 1 attempts
"]



=== TEST 26: a retry that succeeds: 503 once, then 202
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;
    limit_req_zone \$server_name zone=once25:1m rate=1r/m;
    $::LOG"
--- config
    location = /out { signalr_output chat; }
    location /_sink/ {
        # the first call passes the limit and fails, the next are "limited"
        limit_req zone=once25;
        limit_req_status 599;
        limit_req_log_level info;
        error_page 599 = @accepted;
        try_files /nonexistent =503;
    }
    location @accepted { return 202 '{}'; }
--- request eval
["POST /out\r\n[{\"target\":\"t\",\"arguments\":[1]},{\"target\":\"t\",\"arguments\":[2]}]",
 "GET /rest.log", "GET /error.log"]
--- error_code eval
[202, 200, 200]
--- response_body_filters eval
main::bodies_errors(1, qr/\[(?:info|warn|error)\] .*?signalr: .*/)
--- response_body eval
['{"completed":2,"total":2}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[1]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[1]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[2]}
  token A contoso.service.signalr.net
',
'[warn] signalr: REST call "broadcast" to endpoint "contoso.service.signalr.net" got status 503, retry 1 of 2 in 100ms
']
--- no_error_log
[error]



=== TEST 27: 429 is passed on with Retry-After and never retried
--- config
    location = /out { signalr_output chat; }
    location /_sink/ {
        add_header Retry-After 7 always;
        return 429 '{"code":"Throttled"}';
    }
--- request eval
["POST /out\r\n{\"target\":\"t\"}", "GET /rest.log", "GET /error.log"]
--- error_code eval
[429, 200, 200]
--- response_headers eval
["Retry-After: 7\nContent-Type: application/json", "Retry-After:", "Retry-After:"]
--- response_body_filters eval
main::bodies_errors(1, qr/\[(?:info|warn|error)\] .*?signalr: .*/)
--- response_body eval
['{"error":"broadcast: the service is throttling calls","failed":0,"endpoint":"contoso.service.signalr.net","status":429,"errorCode":null,"completed":0,"total":1}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
',
'[warn] signalr: endpoint "contoso.service.signalr.net" throttled REST call "broadcast" (429): the service\'s message quota or rate limit is reached
']
--- no_error_log
[error]



=== TEST 28: a failure in the middle of an array: what was delivered, and x-ms-error-code (removing a connection that is not there fails, as in the SDK)
--- config
    location = /out { signalr_output chat; }
    location /_sink/ {
        if ($request_uri ~ "/connections/gone") {
            add_header x-ms-error-code Error.Connection.NotExisted always;
            return 404 '{"code":"Error.Connection.NotExisted"}';
        }
        return 202 '{}';
    }
--- request eval
['POST /out
[{"target":"t","arguments":[0]},
 {"action":"remove","groupName":"g","connectionId":"gone"},
 {"target":"t","groupName":"g","arguments":[2]}]',
 "GET /rest.log", "GET /error.log"]
--- error_code eval
[404, 200, 200]
--- response_body_filters eval
main::bodies_errors(1, qr/\[(?:info|warn|error)\] .*?signalr: .*/)
--- response_body eval
['{"error":"remove connection from group: the service refused it","failed":1,"endpoint":"contoso.service.signalr.net","status":404,"errorCode":"Error.Connection.NotExisted","completed":1,"total":3}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[0]}
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/groups/g/connections/gone?api-version=2022-06-01
  token A contoso.service.signalr.net
',
'[info] signalr: endpoint "contoso.service.signalr.net" refused REST call "remove connection from group" with status 404 (x-ms-error-code: Error.Connection.NotExisted)
']
--- no_error_log
[error]
[warn]



=== TEST 29: the status contract: 400, 404, 413 as they are; 401, 403, 3xx, other 4xx and 5xx as 502; 401 and 403 take the endpoint offline, as 5xx do
--- http_config eval
"signalr_endpoint \"$::CS_A\" name=statuses rest=/_signalr;\n$::LOG"
--- config
    location = /out { signalr_output chat; }
    location /_sink/ {
        if ($request_uri ~ "/users/u400/") {
            add_header x-ms-error-code Error.InvalidArgument always;
            return 400;
        }
        if ($request_uri ~ "/users/u404/") { return 404; }
        if ($request_uri ~ "/users/u413/") { return 413; }
        if ($request_uri ~ "/users/u401/") { return 401; }
        if ($request_uri ~ "/users/u403/") { return 403; }
        if ($request_uri ~ "/users/u302/") { return 302 /elsewhere; }
        if ($request_uri ~ "/users/u405/") { return 405; }
        if ($request_uri ~ "/users/u501/") { return 501; }
        return 202 '{}';
    }
--- request eval
[(map { "POST /out\r\n{\"target\":\"t\",\"userId\":\"u$_\"}" } qw(400 404 413 401 403 302 405 501)),
 "GET /rest.log", "GET /error.log"]
--- error_code eval
[400, 404, 413, 502, 502, 502, 502, 502, 200, 200]
--- response_body_filters eval
[([sub { $_[0] }]) x 8,
 [\&SignalRTest::rest_log, sub { CORE::join "", map { m{^POST /api/hubs/chat/users/(u\d+)/} ? "$1\n" : () } CORE::split /\n/, $_[0] }],
 [sub { my @m = map { /\[(info|warn|error)\] .*?signalr: (.*?)(?: while [^,]*)?(?:, client: |$)/ ? "[$1] $2\n" : () } CORE::split /\n/, $_[0]; CORE::join "", @m }]]
--- response_body eval
['{"error":"send to user: the service refused it","failed":0,"endpoint":"statuses","status":400,"errorCode":"Error.InvalidArgument","completed":0,"total":1}',
 '{"error":"send to user: the service refused it","failed":0,"endpoint":"statuses","status":404,"errorCode":null,"completed":0,"total":1}',
 '{"error":"send to user: the service refused it","failed":0,"endpoint":"statuses","status":413,"errorCode":null,"completed":0,"total":1}',
 '{"error":"send to user: the service refused the access token","failed":0,"endpoint":"statuses","status":401,"errorCode":null,"completed":0,"total":1}',
 '{"error":"send to user: the service refused the access token","failed":0,"endpoint":"statuses","status":403,"errorCode":null,"completed":0,"total":1}',
 '{"error":"send to user: the service gave an unexpected answer","failed":0,"endpoint":"statuses","status":302,"errorCode":null,"completed":0,"total":1}',
 '{"error":"send to user: the service gave an unexpected answer","failed":0,"endpoint":"statuses","status":405,"errorCode":null,"completed":0,"total":1}',
 '{"error":"send to user: the service failed","failed":0,"endpoint":"statuses","status":501,"errorCode":null,"completed":0,"total":1}',
 "u400\nu404\nu413\nu401\nu403\nu302\nu405\nu501\nu501\nu501\n",
'[info] endpoint "statuses" refused REST call "send to user" with status 400 (x-ms-error-code: Error.InvalidArgument)
[info] endpoint "statuses" refused REST call "send to user" with status 404 (x-ms-error-code: none)
[info] endpoint "statuses" refused REST call "send to user" with status 413 (x-ms-error-code: none)
[error] endpoint "statuses" refused the access token of REST call "send to user" with status 401 (x-ms-error-code: none): check the AccessKey of its connection string; the endpoint is marked offline for every worker for 30000ms
[warn] endpoint "statuses" refused the access token of REST call "send to user" with status 403 (x-ms-error-code: none): check the AccessKey of its connection string; the endpoint is still offline for every worker for 30000ms
[error] REST call "send to user" to endpoint "statuses" got the unexpected status 302 (x-ms-error-code: none): check the "rest=" location, whose proxy_pass must name the service with no URI part
[error] REST call "send to user" to endpoint "statuses" got the unexpected status 405 (x-ms-error-code: none): check the "rest=" location, whose proxy_pass must name the service with no URI part
[warn] REST call "send to user" to endpoint "statuses" got status 501, retry 1 of 2 in 100ms
[warn] REST call "send to user" to endpoint "statuses" got status 501, retry 2 of 2 in 200ms
[warn] REST call "send to user" to endpoint "statuses" failed with status 501 after 3 attempts (x-ms-error-code: none); the endpoint is still offline for every worker for 30000ms
']



=== TEST 30: the service does not answer in time: 504 after the retries
--- config
    location = /out { signalr_output chat; signalr_rest_retries 1; }
    location /_signalr/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        proxy_read_timeout 200ms;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_no_close
--- tcp_reply_delay: 3s
--- tcp_reply
HTTP/1.1 202 Accepted
--- request
POST /out
{"target":"t"}
--- error_code: 504
--- response_body chomp
{"error":"broadcast: the service did not answer in time","failed":0,"endpoint":"contoso.service.signalr.net","status":504,"errorCode":null,"completed":0,"total":1}
--- grep_error_log eval
qr/upstream timed out|retry \d+ of \d+|failed with status \d+ \(no response/
--- grep_error_log_out
upstream timed out
retry 1 of 1
upstream timed out
failed with status 504 (no response



=== TEST 31: a closed port: 502 after the retries, nothing answered
--- config
    location = /out { signalr_output chat; }
    location /_signalr/ { internal; proxy_pass http://127.0.0.1:1; }
--- request
POST /out
{"action":"close","connectionId":"c"}
--- error_code: 502
--- response_body chomp
{"error":"close connection: the service could not be reached","failed":0,"endpoint":"contoso.service.signalr.net","status":502,"errorCode":null,"completed":0,"total":1}
--- grep_error_log eval
qr/connect\(\) failed|retry \d+ of \d+/
--- grep_error_log_out
connect() failed
retry 1 of 2
connect() failed
retry 2 of 2
connect() failed



=== TEST 32: JSON bad input: 400 with the parser's message (printable ASCII), nothing sent (the whole array is checked first)
--- config
    location = /out { signalr_output chat; }
--- request eval
[map({ "POST /out\r\n$_" }
     '{"target":',
     '',
     '"x"',
     '[]',
     '{"action":"delete","userId":"u","groupName":"g"}',
     '{"arguments":[1]}',
     '{"action":"add","userId":"u"}',
     '{"target":"t","arguments":{"a":1}}',
     '{"target":"t","userId":""}',
     '{"action":"remove","groupName":"g","connectionId":""}',
     '{"target":"t","groupName":"  "}',
     '[{"target":"t"},{"target":""}]',
     '[{"target":"t"},{"target":"t","foo":1}]',
     '{"target":"t","endpoints":[]}',
     '{"action":"close","userId":"u"}',
     '{"target":"t","target":"u"}'),
 "POST /out\r\n{\"t\xc3\xa9\x01",
 "GET /rest.log"]
--- error_code eval
[(400) x 17, 200]
--- response_body_filters eval
main::bodies(17)
--- response_body eval
['{"error":"invalid JSON at line 1, column 10: unexpected token near end of file"}',
 '{"error":"the body is empty: it must be an action (a JSON object) or an array of actions"}',
 '{"error":"the body must be a JSON object or an array of objects"}',
 '{"error":"no actions"}',
 '{"error":"unknown action \"delete\" (expected \"add\", \"remove\", \"removeAll\", \"close\", \"closeConnections\", \"exists\", \"invoke\" or \"listConnections\")"}',
 '{"error":"an action needs \"target\" (a message) or \"action\""}',
 '{"error":"\"groupName\" is missing"}',
 '{"error":"\"arguments\" must be an array"}',
 '{"error":"empty \"userId\""}',
 '{"error":"empty \"connectionId\""}',
 '{"error":"\"groupName\" must not be only white space"}',
 '{"error":"action 1: \"target\" must be a non-empty string"}',
 '{"error":"action 1: unknown member \"foo\""}',
 '{"error":"\"endpoints\" must be a non-empty array of endpoints (leave it out to send to every endpoint)"}',
 '{"error":"\"close\" needs \"connectionId\""}',
 '{"error":"invalid JSON at line 1, column 22: duplicate object key near \'\"target\"\'"}',
 '{"error":"invalid JSON at line 1, column 4: control character 0x1 near \'\"t??\'"}',
 '']
--- no_error_log
[error]



=== TEST 33: an invalid hub from a variable: 400, nothing sent
--- config
    location ~ ^/hubs/(?<hub>[^/]+)/out$ { signalr_output $hub; }
--- request eval
["POST /hubs/1chat/out\r\n{\"target\":\"t\"}", "POST /hubs/a-b/out\r\n{\"target\":\"t\"}",
 "POST /hubs/Chat_Room.v2/out\r\n{\"target\":\"t\"}", "GET /rest.log"]
--- error_code eval
[400, 400, 202, 200]
--- response_body_filters eval
main::bodies(3)
--- response_body eval
['{"error":"invalid hub name"}', '{"error":"invalid hub name"}', '{"completed":1,"total":1}',
'POST /api/hubs/chat_room.v2/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 34: a body over signalr_output_max_body: 413, with a length or chunked
--- config
    location = /out { signalr_output chat; signalr_output_max_body 64; }
--- request eval
["POST /out\r\n{\"target\":\"t\",\"arguments\":[\"" . ("x" x 60) . "\"]}",
 "POST /out\r\n{\"target\":\"t\",\"arguments\":[\"" . ("x" x 30) . "\"]}",
 "GET /rest.log"]
--- error_code eval
[413, 202, 200]
--- response_body_filters eval
main::bodies(2)
--- response_body eval
['{"error":"the body is larger than signalr_output_max_body"}',
 '{"completed":1,"total":1}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 35: a chunked body over signalr_output_max_body: 413
--- config
    location = /out { signalr_output chat; signalr_output_max_body 64; }
--- raw_request eval
my @c = ('{"target":"t","arguments":["' . ("x" x 20), ("x" x 30) . '"]}');
"POST /out HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
. "Transfer-Encoding: chunked\r\n\r\n"
. CORE::join("", map { sprintf("%x\r\n%s\r\n", length($_), $_) } @c) . "0\r\n\r\n"
--- error_code: 413
--- response_body chomp
{"error":"the body is larger than signalr_output_max_body"}
--- no_error_log
[error]



=== TEST 36: more than signalr_output_max_actions: 400, nothing sent; exactly the maximum is sent
--- config
    location = /out { signalr_output chat; signalr_output_max_actions 3; }
--- request eval
["POST /out\r\n[" . CORE::join(",", ('{"target":"t"}') x 4) . "]",
 "POST /out\r\n[" . CORE::join(",", map { "{\"target\":\"t$_\"}" } 1 .. 3) . "]",
 "GET /rest.log"]
--- error_code eval
[400, 202, 200]
--- response_body_filters eval
[[sub { $_[0] }], [sub { $_[0] }], [\&SignalRTest::rest_log, sub { CORE::join "", map { /"target":"(\w+)"/ ? "$1\n" : () } CORE::split /\n/, $_[0] }]]
--- response_body eval
['{"error":"more than 3 actions"}', '{"completed":3,"total":3}', "t1\nt2\nt3\n"]
--- no_error_log
[error]



=== TEST 37: other methods: 405 with Allow: POST
--- config
    location = /out { signalr_output chat; }
--- request eval
["GET /out", "PUT /out\r\n{\"target\":\"t\"}", "DELETE /out", "HEAD /out", "GET /rest.log"]
--- error_code eval
[405, 405, 405, 405, 200]
--- response_headers eval
[("Allow: POST\nContent-Type: application/json") x 4, "Allow:"]
--- response_body_filters eval
main::bodies(4)
--- response_body eval
[('{"error":"signalr_output takes POST"}') x 3, '', '']
--- no_error_log
[error]



=== TEST 38: a body kept in a temporary file is read from it
--- config
    location = /out {
        client_body_buffer_size 1k;
        client_body_in_file_only clean;
        signalr_output chat;
    }
--- request eval
["POST /out\r\n{\"target\":\"big\",\"arguments\":[\"" . ("0123456789" x 300) . "\"]}",
 "GET /rest.log"]
--- error_code eval
[202, 200]
--- response_body_filters eval
main::bodies(1)
--- response_body eval
['{"completed":1,"total":1}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"big","arguments":["' . ("0123456789" x 300) . '"]}
  token A contoso.service.signalr.net
']
--- no_error_log
[error]



=== TEST 39: $signalr_rest_status and $signalr_actions_sent in an access log
--- http_config eval
"signalr_endpoint \"$::CS_A\" rest=/_signalr;
    log_format out '\$request_method \$uri \$status \$signalr_rest_status \$signalr_actions_sent';
    $::LOG"
--- config
    location = /out { access_log logs/out.log out; signalr_output chat; }
    location = /other { access_log logs/out.log out; return 204; }
    location = /out.log { alias logs/out.log; }
    location /_sink/ {
        if ($request_uri ~ "/groups/missing/") { return 404; }
        return 202 '{}';
    }
--- request eval
["POST /out\r\n[{\"target\":\"t\"},{\"action\":\"add\",\"groupName\":\"g\",\"userId\":\"u\"}]",
 "POST /out\r\n[{\"target\":\"t\"},{\"target\":\"t\",\"groupName\":\"missing\"}]",
 "POST /out\r\n{\"target\":1}",
 "GET /out",
 "GET /other",
 "GET /out.log"]
--- error_code eval
[202, 404, 400, 405, 204, 200]
--- response_body_like eval
['"completed":2', '"completed":1', 'non-empty', 'POST', '^$',
"^POST /out 202 202 2
POST /out 404 404 1
POST /out 400 - 0
GET /out 405 - -
GET /other 204 - -
\$"]
--- no_error_log
[error]



=== TEST 40: 100 actions (the default maximum), one subrequest after another
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n[" . CORE::join(",", map { "{\"target\":\"t\",\"arguments\":[$_]}" } 1 .. 100) . "]",
 "POST /out\r\n[" . CORE::join(",", map { "{\"target\":\"t\",\"arguments\":[$_]}" } 1 .. 101) . "]",
 "GET /rest.log"]
--- error_code eval
[202, 400, 200]
--- response_body_filters eval
[[sub { $_[0] }], [sub { $_[0] }], [\&SignalRTest::rest_log, sub { my $n = () = $_[0] =~ /^  token A contoso/mg; my @a = $_[0] =~ /"arguments":\[(\d+)\]/g; "$n tokens, arguments " . CORE::join(",", @a) . "\n" }]]
--- response_body eval
['{"completed":100,"total":100}', '{"error":"more than 100 actions"}',
 "100 tokens, arguments " . CORE::join(",", 1 .. 100) . "\n"]
--- no_error_log
[error]



=== TEST 41: nothing above debug level shows the key or a token
--- config
    location = /out { signalr_output chat; signalr_rest_retries 1; }
    location /_sink/ {
        if ($request_uri ~ "/users/u401/") { return 401; }
        return 503;
    }
--- request eval
["POST /out\r\n{\"target\":\"t\",\"userId\":\"u401\"}", "POST /out\r\n{\"target\":\"t\"}"]
--- error_code eval
[502, 502]
--- no_error_log eval
qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*(?:Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM|eyJhbGciOi)/



=== TEST 42: signalr_output needs rest= on every endpoint
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=east rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=west;
    $::LOG"
--- config
    location = /out { signalr_output chat; }
--- must_die
--- error_log
"signalr_output" needs "rest=" on endpoint "west"



=== TEST 43: signalr_output needs an endpoint
--- http_config eval
$::LOG
--- config
    location = /out { signalr_output chat; }
--- must_die
--- error_log
"signalr_output" needs at least one "signalr_endpoint" in the http block



=== TEST 44: signalr_target and signalr_group_action together
--- config
    location = /out { signalr_output chat; signalr_target t; signalr_group_action add; signalr_group g; signalr_user_id u; }
--- must_die
--- error_log
"signalr_target" and "signalr_group_action add" cannot be used together



=== TEST 45: signalr_arguments needs signalr_target
--- config
    location = /out { signalr_output chat; signalr_arguments '[1]'; }
--- must_die
--- error_log
"signalr_arguments" needs "signalr_target"



=== TEST 46: signalr_group_action add and remove need signalr_group
--- config
    location = /out { signalr_output chat; signalr_group_action remove; signalr_user_id u; }
--- must_die
--- error_log
"signalr_group_action remove" needs "signalr_group"



=== TEST 47: signalr_group_action needs a user or a connection
--- config
    location = /out { signalr_output chat; signalr_group_action remove_all; }
--- must_die
--- error_log
"signalr_group_action" needs "signalr_user_id" or "signalr_connection_id"



=== TEST 48: an invalid literal hub fails the configuration
--- config
    location = /out { signalr_output chat-room; }
--- must_die
--- error_log
invalid hub name "chat-room": a letter, then up to 127 letters, digits or _`,.[]



=== TEST 49: signalr_output is not duplicated
--- config
    location = /out { signalr_output a; signalr_output b; }
--- must_die
--- error_log
"signalr_output" directive is duplicate



=== TEST 50: a server-level signalr_user_id counts as the recipient; signalr_group is still needed
--- config
    signalr_user_id $arg_user;
    location = /out { signalr_output chat; signalr_group_action add; }
--- must_die
--- error_log
"signalr_group_action add" needs "signalr_group"



=== TEST 51: an output location as a trigger route (a subrequest): on connect join a group, on a message broadcast to it
--- http_config eval
"signalr_endpoint \"Endpoint=https://a.example.net;AccessKey=$SignalRTest::KEYS{S1}\" name=a rest=/_signalr;
    $::LOG"
--- config
    location = /upstream { signalr_trigger /on/$signalr_category/$signalr_event; }
    location = /on/connections/connected {
        signalr_output $signalr_hub;
        signalr_group_action add;
        signalr_connection_id $signalr_connection_id;
        signalr_group lobby;
    }
    location = /on/messages/broadcast {
        signalr_output $signalr_hub;
        signalr_target newMessage;
        signalr_arguments $signalr_arguments;
        signalr_group lobby;
    }
--- request eval
["POST /upstream\r\n{\"type\":10}",
 "POST /upstream\r\n{\"type\":1,\"invocationId\":\"7\",\"target\":\"broadcast\",\"arguments\":[\"hello\",{\"n\":1}]}",
 "GET /rest.log"]
--- more_headers eval
[main::upstream_headers("connections", "connected"),
 main::upstream_headers("messages", "broadcast"), ""]
--- error_code eval
[200, 200, 200]
--- response_body_filters eval
main::bodies(2)
--- response_body eval
["", "{\"type\":3,\"invocationId\":\"7\",\"result\":{\"completed\":1,\"total\":1}}\x1e",
"PUT /api/hubs/chat/groups/lobby/connections/$::CID?api-version=2022-06-01
  token S1 a.example.net
POST /api/hubs/chat/groups/lobby/:send?api-version=2022-06-01
  body {\"target\":\"newMessage\",\"arguments\":[\"hello\",{\"n\":1}]}
  token S1 a.example.net
"]
--- no_error_log
[error]



=== TEST 52: the client goes away during the retries: the request ends cleanly, the retries stop
--- config
    location = /out { signalr_output chat; signalr_rest_retries 4; }
    location /_sink/ { return 503; }
--- request
POST /out
{"target":"t"}
--- timeout: 0.25
--- abort
--- ignore_response
--- wait: 1.5
--- error_log eval
[qr/retry 2 of 4 in 200ms/, qr/client prematurely closed connection/]
--- skip_eval
5: SignalRTest::skip_under_valgrind("TEST 52", "the client gives up after 250 ms, before the second retry (after 100 ms and 200 ms of backoff) under memcheck")
--- no_error_log
retry 4 of 4
[alert]
[crit]



=== TEST 53: $signalr_endpoint: the endpoint of the last REST call
--- http_config eval
"signalr_endpoint \"$::CS_WEST\" name=west rest=/_signalr;
    signalr_endpoint \"$::CS_EAST\" name=east60 rest=/_signalr;
    $::LOG"
--- config
    location = /out {
        signalr_output chat;
        add_header X-Endpoint $signalr_endpoint always;
    }
--- request
POST /out
{"target":"t"}
--- error_code: 202
--- response_headers
X-Endpoint: east60
--- no_error_log
[error]



=== TEST 54: an endpoint that refuses its token (401) is avoided by negotiate: the service would refuse negotiate's tokens too
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=east54 rest=/_refuse;
    signalr_endpoint \"$::CS_WEST\" name=west54 rest=/_signalr type=secondary;
    $::LOG"
--- config
    location = /out { signalr_output chat; }
    location = /neg { signalr_negotiate chat; return 200 "$signalr_client_url\n"; }
    location /_refuse/ { internal; return 401; }
--- request eval
["GET /neg", "POST /out\r\n{\"target\":\"t\"}", "GET /neg", "GET /neg", "GET /rest.log", "GET /error.log"]
--- error_code eval
[200, 502, 200, 200, 200, 200]
--- response_body_filters eval
main::bodies_errors(4, qr/\[(?:info|warn|error)\] .*?signalr: .*/, 1)
--- response_body eval
["https://east.example.net/client/?hub=chat\n",
 '{"error":"broadcast: the service refused the access token","failed":0,"endpoint":"east54","status":401,"errorCode":null,"completed":0,"total":1,"endpoints":[{"name":"east54","completed":0,"failures":[{"action":0,"status":401,"errorCode":null,"error":"the service refused the access token"}]},{"name":"west54","completed":1}]}',
 ("https://west.example.net/client/?hub=chat\n") x 2,
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token B west.example.net
',
 '[error] signalr: endpoint "east54" refused the access token of REST call "broadcast" with status 401 (x-ms-error-code: none): check the AccessKey of its connection string; the endpoint is marked offline for every worker for 30000ms
']



=== TEST 55: the SDK's expected answers (one endpoint): adding a connection that is not there to a group, or closing it, is done (404 with Error.Connection.NotExisted, Warning.Connection.NotExisted, in any case); the other code is not
--- config
    location = /out { signalr_output chat; }
    location /_sink/ {
        if ($request_uri ~ "/connections/gone") {
            add_header x-ms-error-code Error.Connection.NotExisted always;
            return 404 '{}';
        }
        if ($request_uri ~ "/connections/closed") {
            add_header x-ms-error-code warning.connection.notexisted always;
            return 404 '{}';
        }
        return 202 '{}';
    }
--- request eval
['POST /out
[{"action":"add","groupName":"g","connectionId":"gone"},
 {"action":"close","connectionId":"closed"}]',
 'POST /out
{"action":"add","groupName":"g","connectionId":"closed"}',
 'POST /out
{"action":"close","connectionId":"gone"}',
 "GET /rest.log"]
--- error_code eval
[202, 404, 404, 200]
--- response_body_filters eval
main::bodies(3)
--- response_body eval
['{"completed":2,"total":2}',
 '{"error":"add connection to group: the service refused it","failed":0,"endpoint":"contoso.service.signalr.net","status":404,"errorCode":"warning.connection.notexisted","completed":0,"total":1}',
 '{"error":"close connection: the service refused it","failed":0,"endpoint":"contoso.service.signalr.net","status":404,"errorCode":"Error.Connection.NotExisted","completed":0,"total":1}',
'PUT /api/hubs/chat/groups/g/connections/gone?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/connections/closed?api-version=2022-06-01
  token A contoso.service.signalr.net
PUT /api/hubs/chat/groups/g/connections/closed?api-version=2022-06-01
  token A contoso.service.signalr.net
DELETE /api/hubs/chat/connections/gone?api-version=2022-06-01
  token A contoso.service.signalr.net
']
--- no_error_log
[error]
[warn]



=== TEST 56: several endpoints, a connection on one of them: what is about that connection is done when any endpoint took it; a 404 where it is not stops nothing; a call about no connection must be taken by every endpoint, and a refusal stops that endpoint alone
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=a rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=b rest=/_signalr_b;
    map \"\$http_x_ep \$request_method \$request_uri\" \$absent {
        \"~^ PUT .*/connections/c1\\?\" Error.Connection.NotExisted;
        \"~^ DELETE .*/groups/g/connections/c1\\?\" Warning.Connection.NotExisted;
        \"~^ DELETE .*/connections/c1\\?\" Warning.Connection.NotExisted;
        \"~ .*/connections/c2[?/]\" Warning.Connection.NotExisted;
        \"~^ POST .*/users/bad/\" 400;
    }
    $::LOG"
--- config
    location = /out { signalr_output chat; signalr_rest_retries 0; }
    location /_signalr_b/ {
        internal;
        proxy_set_header X-Ep b;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /_sink/ {
        if ($absent = 400) { return 400; }
        if ($absent) {
            add_header x-ms-error-code $absent always;
            return 404 '{}';
        }
        return 202 '{}';
    }
--- request eval
['POST /out
[{"action":"add","groupName":"g","connectionId":"c1"},
 {"target":"t","connectionId":"c1"},
 {"action":"remove","groupName":"g","connectionId":"c1"},
 {"action":"close","connectionId":"c1"},
 {"target":"t","groupName":"g"}]',
 'POST /out
{"action":"remove","groupName":"g","connectionId":"c2"}',
 'POST /out
[{"target":"t","userId":"bad"},{"target":"t"}]',
 "GET /rest.log", "GET /error.log"]
--- error_code eval
[202, 404, 400, 200, 200]
--- response_body_filters eval
main::bodies_errors(3, qr/\[(?:notice|info|warn|error)\] .*?signalr: .*/, 1)
--- response_body eval
['{"completed":5,"total":5,"endpoints":[{"name":"a","completed":4,"failures":[{"action":2,"status":404,"errorCode":"Warning.Connection.NotExisted","error":"the service refused it"}]},{"name":"b","completed":5}]}',
 '{"error":"remove connection from group: the service refused it","failed":0,"endpoint":"a","status":404,"errorCode":"Warning.Connection.NotExisted","completed":0,"total":1,"endpoints":[{"name":"a","completed":0,"failures":[{"action":0,"status":404,"errorCode":"Warning.Connection.NotExisted","error":"the service refused it"}]},{"name":"b","completed":0,"failures":[{"action":0,"status":404,"errorCode":"Warning.Connection.NotExisted","error":"the service refused it"}]}]}',
 '{"error":"send to user: the service refused it","failed":0,"endpoint":"a","status":400,"errorCode":null,"completed":0,"total":2,"endpoints":[{"name":"a","completed":0,"failures":[{"action":0,"status":400,"errorCode":null,"error":"the service refused it"}],"notSent":1},{"name":"b","completed":2}]}',
'PUT /api/hubs/chat/groups/g/connections/c1?api-version=2022-06-01
  token A east.example.net
POST /api/hubs/chat/connections/c1/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A east.example.net
DELETE /api/hubs/chat/groups/g/connections/c1?api-version=2022-06-01
  token A east.example.net
DELETE /api/hubs/chat/connections/c1?api-version=2022-06-01
  token A east.example.net
POST /api/hubs/chat/groups/g/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A east.example.net
DELETE /api/hubs/chat/groups/g/connections/c2?api-version=2022-06-01
  token A east.example.net
POST /api/hubs/chat/users/bad/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A east.example.net
PUT /api/hubs/chat/groups/g/connections/c1?api-version=2022-06-01
  token B west.example.net
POST /api/hubs/chat/connections/c1/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token B west.example.net
DELETE /api/hubs/chat/groups/g/connections/c1?api-version=2022-06-01
  token B west.example.net
DELETE /api/hubs/chat/connections/c1?api-version=2022-06-01
  token B west.example.net
POST /api/hubs/chat/groups/g/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token B west.example.net
DELETE /api/hubs/chat/groups/g/connections/c2?api-version=2022-06-01
  token B west.example.net
POST /api/hubs/chat/users/bad/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token B west.example.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token B west.example.net
',
'[info] signalr: endpoint "a" refused REST call "send to user" with status 400 (x-ms-error-code: none)
']



=== TEST 57: an offline endpoint that answers a REST call is online again at once (every endpoint offline: it was tried)
--- http_config eval
"signalr_endpoint \"$::CS_A\" name=again rest=/_signalr;\n$::LOG"
--- config
    location = /out { signalr_output chat; signalr_rest_retries 0; }
    location /_sink/ {
        if ($request_uri ~ "/users/dead/") { return 503; }
        return 202 '{}';
    }
--- request eval
["POST /out\r\n{\"target\":\"t\",\"userId\":\"dead\"}",
 "POST /out\r\n{\"target\":\"t\"}",
 "POST /out\r\n{\"target\":\"t\",\"userId\":\"dead\"}",
 "GET /rest.log", "GET /error.log"]
--- error_code eval
[502, 202, 502, 200, 200]
--- response_body_filters eval
main::bodies_errors(3, qr/\[(?:notice|info|warn|error)\] .*?signalr: .*/)
--- response_body eval
['{"error":"send to user: the service failed","failed":0,"endpoint":"again","status":503,"errorCode":null,"completed":0,"total":1}',
 '{"completed":1,"total":1}',
 '{"error":"send to user: the service failed","failed":0,"endpoint":"again","status":503,"errorCode":null,"completed":0,"total":1}',
'POST /api/hubs/chat/users/dead/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
POST /api/hubs/chat/users/dead/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token A contoso.service.signalr.net
',
'[error] signalr: REST call "send to user" to endpoint "again" failed with status 503 after 1 attempts (x-ms-error-code: none); the endpoint is marked offline for every worker for 30000ms
[notice] signalr: endpoint "again" answered REST call "broadcast" with status 202: it is online again for every worker
[error] signalr: REST call "send to user" to endpoint "again" failed with status 503 after 1 attempts (x-ms-error-code: none); the endpoint is marked offline for every worker for 30000ms
']



=== TEST 58: one service, two keys (rotation): the second signalr_endpoint line of a service is its other key; each action is sent once, signed with the key of the first line, as negotiate's tokens are
--- http_config eval
"signalr_endpoint \"Endpoint=https://east.example.net;AccessKey=$SignalRTest::KEYS{B}\" name=east rest=/_signalr;
    signalr_endpoint \"$::CS_EAST\";
    $::LOG"
--- config
    location = /out { signalr_output chat; }
    location = /neg { signalr_negotiate chat; }
--- request eval
["POST /out\r\n{\"target\":\"t\"}", "GET /neg", "GET /rest.log"]
--- error_code eval
[202, 200, 200]
--- response_body_filters eval
[[sub { $_[0] }], [\&SignalRTest::negotiate, sub { $_[0] =~ /^(url=.*\n)(?:.*\n)*(signed=.*\n)/ ? "$1$2" : $_[0] }], [\&SignalRTest::rest_log]]
--- response_body eval
['{"completed":1,"total":1}',
"url=https://east.example.net/client/?hub=chat\nsigned=B\n",
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[]}
  token B east.example.net
']
--- no_error_log
[error]



=== TEST 59: "endpoints" in an action (the Functions binding's SignalREndpoint objects) selects configured endpoints by name, or by Endpoint URL and type; one that names no endpoint is refused with 400 before anything is sent
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=a rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=b type=secondary rest=/_signalr;
    $::LOG"
--- config
    location = /out { signalr_output chat; }
--- request eval
['POST /out
[{"target":"t","arguments":[1],"endpoints":[{"name":"b","endpoint":"https://west.example.net","endpointType":"Secondary","online":true}]},
 {"target":"t","arguments":[2]}]',
 'POST /out
{"target":"t","arguments":[3],"endpoints":[{"Endpoint":"https://EAST.example.net/","EndpointType":"Primary"}]}',
 'POST /out
{"target":"t","endpoints":[{"name":"a","endpointType":"Secondary"}]}',
 'POST /out
[{"target":"t"},{"target":"t","endpoints":[{"name":"a"},{"name":"no where\u0001"}]}]',
 'POST /out
{"target":"t","endpoints":[{"endpoint":"https://east.example.net:8443"}]}',
 "GET /rest.log"]
--- error_code eval
[202, 202, 400, 400, 400, 200]
--- response_body_filters eval
main::bodies(5, 1)
--- response_body eval
['{"completed":2,"total":2,"endpoints":[{"name":"a","completed":1},{"name":"b","completed":2}]}',
 '{"completed":1,"total":1,"endpoints":[{"name":"a","completed":1},{"name":"b","completed":0}]}',
 '{"error":"action 0: \"endpoints\" item 0 (name \"a\", Secondary) names no configured endpoint"}',
 '{"error":"action 1: \"endpoints\" item 1 (name \"no%20where%01\") names no configured endpoint"}',
 '{"error":"action 0: \"endpoints\" item 0 (endpoint \"https%3A%2F%2Feast.example.net%3A8443\") names no configured endpoint"}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[2]}
  token A east.example.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[3]}
  token A east.example.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[1]}
  token B west.example.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[2]}
  token B west.example.net
']
--- no_error_log
[error]



=== TEST 60: "endpoints" with an offline endpoint: an action whose endpoints are all offline is still sent to them; an action that has an online one skips the offline ones, and the answer counts what was skipped
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=a60 rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=b60 rest=/_dead;
    $::LOG"
--- config
    location = /out { signalr_output chat; signalr_rest_retries 0; }
    location /_dead/ { internal; proxy_pass http://127.0.0.1:1; }
--- request eval
['POST /out
{"target":"t","arguments":[0],"endpoints":[{"name":"b60"}]}',
 'POST /out
[{"target":"t","arguments":[1],"endpoints":[{"name":"b60"}]},{"target":"t","arguments":[2]}]',
 "GET /rest.log"]
--- error_code eval
[502, 502, 200]
--- response_body_filters eval
main::bodies(2, 1)
--- response_body eval
['{"error":"broadcast: the service could not be reached","failed":0,"endpoint":"b60","status":502,"errorCode":null,"completed":0,"total":1,"endpoints":[{"name":"a60","completed":0},{"name":"b60","completed":0,"failures":[{"action":0,"status":502,"errorCode":null,"error":"the service could not be reached"}]}]}',
 '{"error":"broadcast: the service could not be reached","failed":0,"endpoint":"b60","status":502,"errorCode":null,"completed":1,"total":2,"endpoints":[{"name":"a60","completed":1},{"name":"b60","completed":0,"skipped":1,"failures":[{"action":0,"status":502,"errorCode":null,"error":"the service could not be reached"}]}]}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[2]}
  token A east.example.net
']



=== TEST 61: several endpoints, one that accepts connections and never answers: the others are not held up by it (their calls go on in parallel); the answer comes when its proxy_read_timeout runs out, and the next output skips it at once
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=mute61 rest=/_mute;
    signalr_endpoint \"$::CS_WEST\" name=live61 rest=/_signalr type=secondary;
    $::LOG"
--- config
    location = /out { signalr_output chat; signalr_rest_retries 0; }
    location /_mute/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        proxy_read_timeout 500ms;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_no_close
--- tcp_reply_delay: 5s
--- tcp_reply
HTTP/1.1 202 Accepted
--- request eval
['POST /out
[{"target":"t","arguments":[1]},{"target":"t","arguments":[2]},{"target":"t","arguments":[3]}]',
 'POST /out
{"target":"t","arguments":[4]}',
 "GET /rest.log"]
--- error_code eval
[504, 202, 200]
--- response_body_filters eval
main::bodies(2, 1)
--- response_body eval
['{"error":"broadcast: the service did not answer in time","failed":0,"endpoint":"mute61","status":504,"errorCode":null,"completed":0,"total":3,"endpoints":[{"name":"mute61","completed":0,"failures":[{"action":0,"status":504,"errorCode":null,"error":"the service did not answer in time"}],"notSent":2},{"name":"live61","completed":3}]}',
 '{"completed":1,"total":1,"endpoints":[{"name":"mute61","completed":0,"skipped":1},{"name":"live61","completed":1}]}',
'POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[1]}
  token B west.example.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[2]}
  token B west.example.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[3]}
  token B west.example.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {"target":"t","arguments":[4]}
  token B west.example.net
']
--- timeout: 10



=== TEST 62: an output location as a trigger route with two endpoints: the REST calls to both, in parallel, end and the route answers (its waiting subrequests are run)
--- http_config eval
"signalr_endpoint \"Endpoint=https://a.example.net;AccessKey=$SignalRTest::KEYS{S1}\" name=a rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=w62 rest=/_signalr type=secondary;
    $::LOG"
--- config
    location = /upstream { signalr_trigger /on/$signalr_category/$signalr_event; }
    location = /on/messages/broadcast {
        signalr_output $signalr_hub;
        signalr_target newMessage;
        signalr_arguments $signalr_arguments;
    }
--- request eval
["POST /upstream\r\n{\"type\":1,\"invocationId\":\"7\",\"target\":\"broadcast\",\"arguments\":[\"hi\"]}",
 "GET /rest.log"]
--- more_headers eval
[main::upstream_headers("messages", "broadcast"), ""]
--- error_code eval
[200, 200]
--- response_body_filters eval
main::bodies(1, 1)
--- response_body eval
["{\"type\":3,\"invocationId\":\"7\",\"result\":{\"completed\":1,\"total\":1,\"endpoints\":[{\"name\":\"a\",\"completed\":1},{\"name\":\"w62\",\"completed\":1}]}}\x1e",
"POST /api/hubs/chat/:send?api-version=2022-06-01
  body {\"target\":\"newMessage\",\"arguments\":[\"hi\"]}
  token S1 a.example.net
POST /api/hubs/chat/:send?api-version=2022-06-01
  body {\"target\":\"newMessage\",\"arguments\":[\"hi\"]}
  token B west.example.net
"]
--- no_error_log
[error]
--- timeout: 5



=== TEST 63: a REST location whose error_page answers after a failure: the outcome is the error page's, even when another endpoint's answer wakes the output in between
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=fb63 rest=/_fb;
    signalr_endpoint \"$::CS_WEST\" name=w63 rest=/_signalr type=secondary;
    $::LOG"
--- config
    location = /out { signalr_output chat; signalr_rest_retries 0; }
    location /_fb/ {
        internal;
        proxy_pass http://127.0.0.1:1;
        proxy_intercept_errors on;
        error_page 502 = @fallback;
    }
    location @fallback {
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply_delay: 500ms
--- tcp_reply eval
"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
--- request
POST /out
{"target":"t"}
--- error_code: 202
--- response_body chomp
{"completed":1,"total":1,"endpoints":[{"name":"fb63","completed":1},{"name":"w63","completed":1}]}
--- no_error_log eval
qr/\[error\].*signalr:/



=== TEST 64: which failure the answer tells: an endpoint whose run ended before the action, not one that failed a later action; for an action about one connection, an endpoint that failed rather than one where the connection is not; $signalr_rest_status and $signalr_endpoint name that failure
--- http_config eval
"signalr_endpoint \"$::CS_EAST\" name=a64 rest=/_signalr;
    signalr_endpoint \"$::CS_WEST\" name=b64 rest=/_signalr_b;
    map \"\$http_x_ep \$request_method \$request_uri\" \$fail {
        \"~^b POST .*/connections/c1/\" 500;
        \"~^ POST .*/users/u2/\" 500;
        \"~^ POST .*/connections/c9/\" 404;
        \"~^b POST .*/connections/c9/\" 503;
    }
    $::LOG"
--- config
    location = /out {
        signalr_output chat;
        signalr_rest_retries 0;
        add_header X-Rest $signalr_rest_status always;
        add_header X-Endpoint $signalr_endpoint always;
    }
    location /_signalr_b/ {
        internal;
        proxy_set_header X-Ep b;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /_sink/ {
        if ($fail = 500) { return 500; }
        if ($fail = 503) { return 503; }
        if ($fail = 404) {
            add_header x-ms-error-code Warning.Connection.NotExisted always;
            return 404 '{}';
        }
        return 202 '{}';
    }
--- request eval
['POST /out
[{"target":"t","connectionId":"c1"},{"target":"t","userId":"u1"},{"target":"t","userId":"u2"}]',
 'POST /out
{"target":"t","connectionId":"c9"}']
--- error_code eval
[502, 502]
--- response_headers eval
["X-Rest: 500\nX-Endpoint: b64", "X-Rest: 503\nX-Endpoint: b64"]
--- response_body eval
['{"error":"send to user: the service failed","failed":1,"endpoint":"b64","status":500,"errorCode":null,"completed":1,"total":3,"endpoints":[{"name":"a64","completed":2,"failures":[{"action":2,"status":500,"errorCode":null,"error":"the service failed"}]},{"name":"b64","completed":0,"failures":[{"action":0,"status":500,"errorCode":null,"error":"the service failed"}],"notSent":2}]}',
 '{"error":"send to connection: the service failed","failed":0,"endpoint":"b64","status":503,"errorCode":null,"completed":0,"total":1,"endpoints":[{"name":"a64","completed":0,"failures":[{"action":0,"status":404,"errorCode":"Warning.Connection.NotExisted","error":"the service refused it"}]},{"name":"b64","completed":0,"failures":[{"action":0,"status":503,"errorCode":null,"error":"the service failed"}]}]}']



=== TEST 65: what the caller controls cannot make a URI the service refuses (414): a reason over 1024 bytes, or so many excluded ids that the URI would pass 8000 bytes, is refused with 400 before anything is sent
--- config
    location = /out { signalr_output chat; }
--- request eval
["POST /out\r\n{\"action\":\"close\",\"connectionId\":\"c\",\"reason\":\"" . ('r' x 9000) . "\"}",
 "POST /out\r\n{\"target\":\"t\",\"excluded\":[" . join(",", map { "\"c$_\"" } 1 .. 1500) . "]}",
 "GET /rest.log"]
--- error_code eval
[400, 400, 200]
--- response_body_filters eval
main::bodies(2)
--- response_body eval
['{"error":"\"reason\" is longer than 1024 bytes"}',
 '{"error":"the REST call\'s URI would be 21436 bytes long, more than the 8000 the service takes: fewer \"excluded\" ids"}',
 '']
--- no_error_log
[error]



=== TEST 66: a 2xx whose answer is cut short (the connection closed before Content-Length): the service took the call, so it is done and never sent again (a send would be delivered twice)
--- config
    location = /out {
        signalr_output chat;
        add_header X-Rest $signalr_rest_status always;
    }
    location /_signalr/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_reply eval
"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{"
--- request
POST /out
{"target":"t"}
--- error_code: 202
--- response_headers
X-Rest: 202
--- response_body chomp
{"completed":1,"total":1}
--- grep_error_log eval
qr/retry \d+ of \d+|answered REST call "broadcast" with status 202, and its answer was cut short: counted as done, not sent again/
--- grep_error_log_out
answered REST call "broadcast" with status 202, and its answer was cut short: counted as done, not sent again
