# The status page (signalr_status, signalr_status_zone) with two workers:
# exact counts of negotiate, trigger and output read back from the page in
# the same test, the endpoints' state, the bounds ("other"), the three
# formats and how they are chosen, the configuration's errors, and the
# counters kept over a reload. Every Prometheus text the page gives is
# checked with "promtool check metrics" (make deps installs promtool).
#
# Each test has a zone of its own size (the preprocessor below), so that
# its counts start at 0 in HUP mode too (a zone of another size is a new
# one), and endpoints, hubs and events of its own (the endpoints' state
# is kept by reloads).
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;
use JSON::PP;

master_on();
workers(2);

our $CID = '0f9c97a2f0bf4706afe87a14e0797b11';
# HMAC-SHA256 of $CID with key S1, and with key S2 (t/003-trigger.t)
our $SIG1 = 'sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561';
our $SIG2 = 'sha256=d4aefb65547a00a9881fa8ac8bd03d0faf77af9da5205d45c6e57cbda4377760';

# an endpoint of key S1 (which signs $CID as $SIG1) named $name, on a host
# of its own; REST calls through /_signalr/ to the stand-in below
sub ep {
    my ($name, $params) = @_;
    $params //= '';
    return "signalr_endpoint \"Endpoint=https://$name.example.net;"
        . "AccessKey=$SignalRTest::KEYS{S1};Version=1.0;\" name=$name "
        . "rest=/_signalr check=off $params;\n";
}

# the status page, the error log, and the REST service's stand-in (as
# t/012-actions.t has it): 202, but 404 with an x-ms-error-code or 503 by
# the user; /_dead/ is a REST location nothing answers
our $SVC = <<'_EOS_';
    location = /status { signalr_status; }
    location = /errlog { alias logs/error.log; }
    location /_signalr/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
    }
    location /_dead/ {
        internal;
        proxy_connect_timeout 2s;
        proxy_pass http://127.0.0.1:1;
    }
    location /api/ { return 202; }
    location ~ ^/api/hubs/\w+/users/gone/ {
        add_header x-ms-error-code Warning.User.NotExisted always;
        return 404;
    }
    location ~ ^/api/hubs/\w+/users/busy/ { return 503; }
_EOS_

# an upstream call's headers: a valid call of $CID, signed, unless told
sub up {
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

# a JSON invocation of $event, as the service sends it
sub inv {
    my ($event) = @_;
    return "POST /upstream\r\n"
        . qq({"type":1,"invocationId":"0","target":"$event","arguments":[1]});
}

# a body in chunked transfer coding (Test::Nginx sends it as it is)
sub chunked {
    my ($body) = @_;
    return sprintf("%x\r\n%s\r\n0\r\n\r\n", length $body, $body);
}

# The page in Prometheus text: what promtool says of it, then its samples
# whose line matches $re, without the counters and histogram lines that
# are 0 (every test has a zone of its own: a count it did not cause shows)
# nor the histograms' timings (their _sum and buckets but +Inf); Unix times
# within two minutes of now as NOW; then any of @absent the page holds.
sub prom {
    my ($re, @absent) = @_;
    return [sub {
        my ($body) = @_;
        my $out = SignalRTest::promtool_check($body);
        for my $l (split /\n/, $body) {
            next if $l =~ /^#/ || $l !~ $re;
            next if $l =~ /^\w+(?:_total|_bucket|_count)\{.*\} 0$/;
            next if $l =~ /_sum\{|_bucket\{.*le="(?!\+Inf)/;
            $l =~ s/ (\d{10})$/abs($1 - time) < 120 ? ' NOW' : " $1"/e;
            $out .= "$l\n";
        }
        for my $s (@absent) {
            $out .= "the page holds $s\n" if index($body, $s) >= 0;
        }
        print STDERR $out if $ENV{STATUS_DEBUG};
        return $out;
    }];
}

# a traffic request's answer: "token" for a negotiate answer with a token,
# any other as it is
sub short {
    my ($b) = @_;
    return "token\n" if $b =~ /\A\{"url":"[^"]*","accessToken":"[\w.-]+"\}\z/;
    return "$b\n";
}

# for each string, whether the error log (served by /errlog) has it
sub errlog {
    my (@pats) = @_;
    return [sub {
        my ($log) = @_;
        CORE::join '', map { (index($log, $_) >= 0 ? 'logged: ' : 'not logged: ')
                             . "$_\n" } @pats;
    }];
}

# the rows of the HTML page's table of that id, a line each, cells split
# by "|"; times as TIME, mean times as "N ms"
sub html_table {
    my ($body, $id) = @_;
    my ($t) = $body =~ m{<table id="$id">\n(.*?)</table>}s
        or return "no table $id\n";
    my $out = '';
    for my $row ($t =~ m{<tr>(.*?)</tr>}g) {
        my @c = $row =~ m{<t[dh][^>]*>(.*?)</t[dh]>}g;
        for (@c) {
            s/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/TIME/;
            s/^\d+ ms$/N ms/;
        }
        $out .= join('|', @c) . "\n";
    }
    return $out;
}

sub html {
    my (@ids) = @_;
    return [sub { my $b = $_[0]; CORE::join '', map { "$_:\n" . html_table($b, $_) } @ids }];
}

# the absent strings, for the JSON and HTML pages
sub absent {
    my ($body, @absent) = @_;
    my $out = '';
    for my $s (@absent) {
        $out .= "the page holds $s\n" if index($body, $s) >= 0;
    }
    return $out || "none\n";
}

# the JSON page decoded; the metrics named, a line per entry (its keys in
# order, histograms as their count)
sub json_view {
    my (@keys) = @_;
    return [sub {
        my $j = eval { JSON::PP->new->decode($_[0]) };
        return "not JSON: $@" unless $j;
        my $out = '';
        for my $k (@keys) {
            for my $e (@{ $j->{$k} }) {
                my @v;
                for my $f (sort keys %$e) {
                    next if $f eq 'buckets' || $f eq 'sum_ms';
                    my $v = $e->{$f};
                    $v = join(',', map { "$_=$v->{$_}" } sort keys %$v)
                        if ref $v eq 'HASH';
                    push @v, "$f=$v";
                }
                $out .= "$k " . join(' ', @v) . "\n";
            }
        }
        return $out;
    }];
}

add_block_preprocessor(sub {
    my $block = shift;

    my $http = $block->http_config // '';
    if ($http !~ /signalr_status_zone|#default zone/) {
        # a size of its own: 1 MB and 8 KB for each test
        $http .= "\nsignalr_status_zone " . (1024 + 8 * $block->seq_num)
            . "k;\n";
    }
    $block->set_value("http_config", $http);

    my $config = $block->config;
    if (defined $config && $config !~ /#no mock/) {
        $block->set_value("config", "$config\n$SVC");
    }
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: negotiate: one token counted per answer, by hub and endpoint; no user id on the page
--- http_config eval
main::ep('t1east') . main::ep('t1west')
--- config
    location = /neg {
        signalr_negotiate $arg_hub;
        signalr_negotiate_endpoint $arg_ep;
        signalr_user_id $arg_user;
    }
--- request eval
["POST /neg?hub=t1alpha&ep=t1east&user=t1-alice-uid",
 "POST /neg?hub=t1alpha&ep=t1east&user=t1-alice-uid",
 "POST /neg?hub=t1alpha&ep=t1west&user=t1-bob-uid",
 "POST /neg?hub=t1beta&ep=t1west",
 "GET /status"]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_filters eval
[([\&main::short]) x 4,
 main::prom(qr/^signalr_negotiate/, 't1-alice-uid', 't1-bob-uid')]
--- response_body eval
[("token\n") x 4,
'promtool: ok
signalr_negotiate_tokens_total{hub="t1alpha",endpoint="t1east"} 2
signalr_negotiate_tokens_total{hub="t1alpha",endpoint="t1west"} 1
signalr_negotiate_tokens_total{hub="t1beta",endpoint="t1west"} 1
']
--- no_error_log
[error]



=== TEST 2: negotiate: each refusal counted under its reason, the answers with a token under their hub
--- http_config eval
main::ep('t2ep')
--- config
    location = /neg {
        signalr_negotiate $arg_hub;
        signalr_negotiate_endpoint $arg_ep;
        signalr_user_id $arg_user$http_x_user;
        signalr_claim name $http_x_name;
    }
--- request eval
["POST /neg?hub=1bad",
 "POST /neg?hub=t2%20room",
 "POST /neg?hub=t2hub",
 "POST /neg?hub=t2hub",
 "POST /neg?hub=t2hub&user=" . ("u" x 3000),
 "POST /neg?hub=t2hub&ep=t2nowhere",
 "POST /neg?hub=t2hub&ep=t2ep",
 "GET /status"]
--- more_headers eval
["", "", "X-User: caf\xe9\r\n", "X-Name: \xff\xfe\r\n", "", "", "", ""]
--- error_code eval
[400, 400, 400, 400, 400, 400, 200, 200]
--- response_body_filters eval
[([\&main::short]) x 7,
 main::prom(qr/^signalr_negotiate/)]
--- response_body eval
['{"error":"invalid hub name"}
', '{"error":"invalid hub name"}
', '{"error":"the user id is not valid UTF-8"}
', '{"error":"a claim value is not valid UTF-8"}
', '{"error":"the user id is too long for an access token"}
', '{"error":"signalr_negotiate_endpoint names no endpoint"}
', "token\n",
'promtool: ok
signalr_negotiate_tokens_total{hub="t2hub",endpoint="t2ep"} 1
signalr_negotiate_refused_total{reason="bad_hub"} 2
signalr_negotiate_refused_total{reason="invalid_claim"} 1
signalr_negotiate_refused_total{reason="invalid_user_id"} 1
signalr_negotiate_refused_total{reason="no_endpoint"} 1
signalr_negotiate_refused_total{reason="token_too_long"} 1
']
--- no_error_log
[error]



=== TEST 3: negotiate: an Entra ID endpoint without its key yet: not_ready; the Entra ID gauges and counters pass promtool
--- http_config
signalr_endpoint "Endpoint=http://t3.example.net;AuthType=azure.msi;Version=1.0;" name=t3entra rest=/_signalr entra=/_entra entra_wait=0 check=off;
--- config
    location /_entra/ {
        internal;
        proxy_pass http://127.0.0.1:1;
    }
    location = /neg { signalr_negotiate t3hub; }
--- request eval
["POST /neg", "GET /status", "GET /status?format=json", "GET /errlog"]
--- error_code eval
[503, 200, 200, 200]
--- response_body_filters eval
[[\&main::short],
 main::prom(qr/^signalr_(?:negotiate|entra|endpoint_online)/),
 [sub {
     my $j = JSON::PP->new->decode($_[0]);
     my $e = $j->{endpoints}[0]{entra};
     "$j->{endpoints}[0]{name} key_age="
     . (defined $e->{key_age} ? $e->{key_age} : 'null')
     . " failures=" . ($e->{refresh_failures} > 0 ? 'some' : 0) . "\n"
 }],
 main::errlog('got no answer')]
--- response_body eval
['{"error":"the service\'s Microsoft Entra ID key is not available yet"}
',
qr/\Apromtool: ok
signalr_endpoint_online\{endpoint="t3entra",type="primary"\} 1
signalr_entra_refresh_failures_total\{endpoint="t3entra"\} [1-9]\d*
signalr_entra_last_refresh_seconds\{endpoint="t3entra"\} 0
signalr_negotiate_refused_total\{reason="not_ready"\} 1
\z/,
"t3entra key_age=null failures=some\n",
"logged: got no answer\n"]



=== TEST 4: trigger: each outcome under the call's hub, category and event; calls refused before they are authenticated as "unverified"; the route times counted
--- http_config eval
main::ep('t4ep')
--- config
    location = /upstream {
        signalr_trigger /route/$signalr_hub/$signalr_category/$signalr_event;
    }
    location /route/ { return 204; }
    location = /route/t4deny/connections/connected { return 401; }
    location = /route/t4forbid/connections/connected { return 403; }
    location /route/t4none/ { return 404; }
--- request eval
[main::inv('broadcast'),
 main::inv('broadcast'),
 "POST /upstream\r\n{\"type\":10}",
 "POST /upstream\r\n{\"type\":10}",
 "POST /upstream\r\n{\"type\":10}",
 main::inv('broadcast'),
 main::inv('broadcast'),
 main::inv('broadcast'),
 "POST /upstream\r\n{\"type\":1,\"target\":\"broadcast\",\"arguments\":{}}",
 "GET /upstream",
 main::inv('broadcast'),
 "GET /status",
 "GET /status?format=json",
 "GET /status?format=html"]
--- more_headers eval
[main::up('X-ASRS-Hub' => 't4a'),
 main::up('X-ASRS-Hub' => 't4a'),
 main::up('X-ASRS-Hub' => 't4a', 'X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'connected'),
 main::up('X-ASRS-Hub' => 't4deny', 'X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'connected'),
 main::up('X-ASRS-Hub' => 't4forbid', 'X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'connected'),
 main::up('X-ASRS-Hub' => 't4none'),
 main::up('X-ASRS-Hub' => 't4a', 'X-ASRS-Signature' => $::SIG2),
 main::up('X-ASRS-Hub' => 't4a', 'Content-Type' => 'text/plain'),
 main::up('X-ASRS-Hub' => 't4a'),
 main::up('X-ASRS-Hub' => 't4a'),
 main::up('X-ASRS-Hub' => undef),
 "", "", ""]
--- error_code eval
[200, 200, 200, 403, 403, 404, 401, 415, 400, 405, 400, 200, 200, 200]
--- response_body_filters eval
[([\&main::short]) x 11,
 main::prom(qr/^signalr_trigger/, $::CID),
 main::json_view(qw(trigger_calls trigger_route_duration)),
 main::html('hubs')]
--- response_body eval
[('{"type":3,"invocationId":"0","result":null}' . "\x1e\n") x 2,
 "\n",
 ('{"error":"connection refused"}' . "\n") x 2,
 '{"error":"no route for this event"}' . "\n",
 '{"error":"invalid or missing X-ASRS-Signature"}' . "\n",
 '{"error":"Content-Type must be application/json or application/x-msgpack"}' . "\n",
 '{"error":"the invocation arguments must be an array"}' . "\n",
 '{"error":"upstream calls are POST"}' . "\n",
 '{"error":"an X-ASRS-Hub, X-ASRS-Category, X-ASRS-Event or X-ASRS-Connection-Id header is missing or empty"}' . "\n",
'promtool: ok
signalr_trigger_calls_total{hub="t4a",category="connections",event="connected",outcome="answered"} 1
signalr_trigger_calls_total{hub="t4a",category="messages",event="broadcast",outcome="answered"} 2
signalr_trigger_calls_total{hub="t4a",category="messages",event="broadcast",outcome="client_error"} 1
signalr_trigger_calls_total{hub="t4deny",category="connections",event="connected",outcome="refused"} 1
signalr_trigger_calls_total{hub="t4forbid",category="connections",event="connected",outcome="refused"} 1
signalr_trigger_calls_total{hub="t4none",category="messages",event="broadcast",outcome="no_route"} 1
signalr_trigger_calls_total{hub="unverified",category="unverified",event="unverified",outcome="signature"} 1
signalr_trigger_calls_total{hub="unverified",category="unverified",event="unverified",outcome="unsupported_media_type"} 1
signalr_trigger_calls_total{hub="unverified",category="unverified",event="unverified",outcome="client_error"} 2
signalr_trigger_route_duration_seconds_bucket{hub="t4a",category="connections",le="+Inf"} 1
signalr_trigger_route_duration_seconds_count{hub="t4a",category="connections"} 1
signalr_trigger_route_duration_seconds_bucket{hub="t4a",category="messages",le="+Inf"} 2
signalr_trigger_route_duration_seconds_count{hub="t4a",category="messages"} 2
signalr_trigger_route_duration_seconds_bucket{hub="t4deny",category="connections",le="+Inf"} 1
signalr_trigger_route_duration_seconds_count{hub="t4deny",category="connections"} 1
signalr_trigger_route_duration_seconds_bucket{hub="t4forbid",category="connections",le="+Inf"} 1
signalr_trigger_route_duration_seconds_count{hub="t4forbid",category="connections"} 1
signalr_trigger_route_duration_seconds_bucket{hub="t4none",category="messages",le="+Inf"} 1
signalr_trigger_route_duration_seconds_count{hub="t4none",category="messages"} 1
',
'trigger_calls category=connections event=connected hub=t4a outcomes=answered=1,client_error=0,no_route=0,refused=0,route_failed=0,server_error=0,signature=0,unsupported_media_type=0
trigger_calls category=messages event=broadcast hub=t4a outcomes=answered=2,client_error=1,no_route=0,refused=0,route_failed=0,server_error=0,signature=0,unsupported_media_type=0
trigger_calls category=connections event=connected hub=t4deny outcomes=answered=0,client_error=0,no_route=0,refused=1,route_failed=0,server_error=0,signature=0,unsupported_media_type=0
trigger_calls category=connections event=connected hub=t4forbid outcomes=answered=0,client_error=0,no_route=0,refused=1,route_failed=0,server_error=0,signature=0,unsupported_media_type=0
trigger_calls category=messages event=broadcast hub=t4none outcomes=answered=0,client_error=0,no_route=1,refused=0,route_failed=0,server_error=0,signature=0,unsupported_media_type=0
trigger_calls category=unverified event=unverified hub=unverified outcomes=answered=0,client_error=2,no_route=0,refused=0,route_failed=0,server_error=0,signature=1,unsupported_media_type=1
trigger_route_duration category=connections count=1 hub=t4a
trigger_route_duration category=messages count=2 hub=t4a
trigger_route_duration category=connections count=1 hub=t4deny
trigger_route_duration category=connections count=1 hub=t4forbid
trigger_route_duration category=messages count=1 hub=t4none
',
'hubs:
Hub|Tokens issued|Upstream calls answered|Bad signature|Refused by the route|No route|Unsupported media type|Other 4xx|5xx|Route failed|Mean route time
t4a|0|3|0|0|0|0|1|0|0|N ms
t4deny|0|0|0|1|0|0|0|0|0|N ms
t4forbid|0|0|0|1|0|0|0|0|0|N ms
t4none|0|0|0|0|1|0|0|0|0|N ms
unverified|0|0|1|0|0|1|2|0|0|-
']
--- no_error_log
[error]



=== TEST 5: trigger: a route that fails (500) is answered to the service as the protocol says (a Completion with an error, 403 to a connect, 200 to a disconnect), and counted as route_failed; keys that cannot be fetched: 503, server_error
--- http_config eval
main::ep('t5ep')
--- config
    location = /upstream {
        signalr_trigger /route/$signalr_category;
    }
    location /route/ { return 500; }
    location = /upstream-entra {
        signalr_trigger /route/x;
        signalr_trigger_verify entra;
        signalr_trigger_entra
            issuer=https://sts.windows.net/11111111-1111-4111-8111-111111111111/
            audience=api://signalr-upstream jwks=/_jwks_t5;
    }
    location = /_jwks_t5 {
        internal;
        return 404;
    }
--- request eval
[main::inv('broadcast'),
 "POST /upstream\r\n{\"type\":10}",
 "POST /upstream\r\n{\"type\":11}",
 "POST /upstream-entra\r\n{\"type\":10}",
 "GET /status",
 "GET /errlog"]
--- more_headers eval
[main::up('X-ASRS-Hub' => 't5boom'),
 main::up('X-ASRS-Hub' => 't5boom', 'X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'connected'),
 main::up('X-ASRS-Hub' => 't5boom', 'X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'disconnected'),
 main::up('X-ASRS-Hub' => 't5boom', 'X-ASRS-Category' => 'connections', 'X-ASRS-Event' => 'connected', 'Authorization' => 'Bearer a.b.c'),
 "", ""]
--- error_code eval
[200, 403, 200, 503, 200, 200]
--- response_body_filters eval
[([\&main::short]) x 4,
 main::prom(qr/^signalr_trigger/),
 main::errlog('route "/route/messages" answered 500 to invocation "0" of "broadcast"',
              'route "/route/connections" answered 500 to a disconnected event',
              'could not be fetched through "/_jwks_t5": status 404')]
--- response_body eval
['{"type":3,"invocationId":"0","error":"Invocation failed."}' . "\x1e\n",
'{"error":"connection refused"}
', "\n",
'{"error":"the signing keys of upstream calls are not available"}
',
'promtool: ok
signalr_trigger_calls_total{hub="t5boom",category="connections",event="connected",outcome="route_failed"} 1
signalr_trigger_calls_total{hub="t5boom",category="connections",event="disconnected",outcome="route_failed"} 1
signalr_trigger_calls_total{hub="t5boom",category="messages",event="broadcast",outcome="route_failed"} 1
signalr_trigger_calls_total{hub="unverified",category="unverified",event="unverified",outcome="server_error"} 1
signalr_trigger_route_duration_seconds_bucket{hub="t5boom",category="connections",le="+Inf"} 2
signalr_trigger_route_duration_seconds_count{hub="t5boom",category="connections"} 2
signalr_trigger_route_duration_seconds_bucket{hub="t5boom",category="messages",le="+Inf"} 1
signalr_trigger_route_duration_seconds_count{hub="t5boom",category="messages"} 1
',
'logged: route "/route/messages" answered 500 to invocation "0" of "broadcast"
logged: route "/route/connections" answered 500 to a disconnected event
logged: could not be fetched through "/_jwks_t5": status 404
']



=== TEST 6: bounds: with hubs=2 events=2 a third hub (of negotiate, of upstream calls: each has its own list) and a third event are counted as "other", and so are events that are not short printable ASCII; no user id, connection id or group on any page
--- http_config eval
main::ep('t6ep') . "signalr_status_zone 1m hubs=2 events=2;\n"
--- config
    location = /neg {
        signalr_negotiate $arg_hub;
        signalr_user_id $arg_user;
    }
    location = /upstream { signalr_trigger /route; }
    location = /route { return 204; }
    location = /out { signalr_output t6a; }
--- request eval
["POST /neg?hub=t6a&user=t6-user-secret",
 "POST /neg?hub=t6b",
 "POST /neg?hub=t6c",
 main::inv('t6ev1'),
 main::inv('t6ev2'),
 main::inv('t6ev3'),
 main::inv('t6<b>'),
 main::inv('e' x 129),
 main::inv('t6ev1'),
 "POST /out\r\n[{\"action\":\"add\",\"groupName\":\"t6-group-secret\",\"connectionId\":\"t6-conn-secret\"},{\"target\":\"t\",\"userId\":\"t6-user-secret\"}]",
 "GET /status",
 "GET /status?format=json",
 "GET /status?format=html"]
--- more_headers eval
[("") x 3,
 main::up('X-ASRS-Hub' => 't6a', 'X-ASRS-Event' => 't6ev1', 'X-ASRS-User-Id' => 't6-asrs-user-secret'),
 main::up('X-ASRS-Hub' => 't6a', 'X-ASRS-Event' => 't6ev2', 'X-ASRS-User-Id' => 't6-asrs-user-secret'),
 main::up('X-ASRS-Hub' => 't6b', 'X-ASRS-Event' => 't6ev3'),
 main::up('X-ASRS-Hub' => 't6a', 'X-ASRS-Event' => 't6<b>'),
 main::up('X-ASRS-Hub' => 't6a', 'X-ASRS-Event' => 'e' x 129),
 main::up('X-ASRS-Hub' => 't6c', 'X-ASRS-Event' => 't6ev1'),
 ("") x 4]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 202, 200, 200, 200]
--- response_body_filters eval
[([\&main::short]) x 10,
 main::prom(qr/^signalr_(?:negotiate_tokens|trigger_calls|output|rest_calls)/,
            't6-user-secret', 't6-asrs-user-secret', 't6-group-secret',
            't6-conn-secret', $::CID, 't6<b>', 'eeeeeeeeee', 't6ev3', 't6c'),
 [sub { main::absent($_[0], 't6-user-secret', 't6-asrs-user-secret',
                     't6-group-secret', 't6-conn-secret', $::CID, 't6<b>',
                     't6&lt;b', 'eeeeeeeeee', 't6ev3', 't6c') }],
 [sub { main::absent($_[0], 't6-user-secret', 't6-asrs-user-secret',
                     't6-group-secret', 't6-conn-secret', $::CID, 't6<b>',
                     't6&lt;b', 'eeeeeeeeee', 't6ev3', 't6c') }]]
--- response_body eval
[("token\n") x 3,
 ('{"type":3,"invocationId":"0","result":null}' . "\x1e\n") x 6,
 '{"completed":2,"total":2}' . "\n",
'promtool: ok
signalr_negotiate_tokens_total{hub="other",endpoint="t6ep"} 1
signalr_negotiate_tokens_total{hub="t6a",endpoint="t6ep"} 1
signalr_negotiate_tokens_total{hub="t6b",endpoint="t6ep"} 1
signalr_trigger_calls_total{hub="other",category="messages",event="t6ev1",outcome="answered"} 1
signalr_trigger_calls_total{hub="t6a",category="messages",event="other",outcome="answered"} 2
signalr_trigger_calls_total{hub="t6a",category="messages",event="t6ev1",outcome="answered"} 1
signalr_trigger_calls_total{hub="t6a",category="messages",event="t6ev2",outcome="answered"} 1
signalr_trigger_calls_total{hub="t6b",category="messages",event="other",outcome="answered"} 1
signalr_output_actions_total{action="add_connection_to_group"} 1
signalr_output_actions_total{action="send_to_user"} 1
signalr_rest_calls_total{endpoint="t6ep",class="2xx",code=""} 2
', "none\n", "none\n"]
--- no_error_log
[error]



=== TEST 7: output: each action counted by kind, each recipient as one; REST calls by endpoint, class and x-ms-error-code; their times counted
--- http_config eval
main::ep('t7ep')
--- config
    location = /out { signalr_output t7hub; }
--- request eval
["POST /out\r\n{\"target\":\"t\",\"arguments\":[1]}",
 "POST /out\r\n{\"target\":\"t\",\"userIds\":[\"u1\",\"u2\",\"u3\"]}",
 "POST /out\r\n[{\"target\":\"t\",\"groupName\":\"g\"},{\"action\":\"add\",\"groupName\":\"g\",\"userId\":\"u\"},{\"action\":\"remove\",\"groupName\":\"g\",\"connectionId\":\"c\"},{\"action\":\"close\",\"connectionId\":\"c\"},{\"action\":\"closeConnections\"}]",
 "POST /out\r\n{\"action\":\"exists\",\"groupName\":\"g\"}",
 "POST /out\r\n{\"target\":\"t\",\"userId\":\"gone\"}",
 "GET /status",
 "GET /status?format=json",
 "GET /status?format=html"]
--- error_code eval
[202, 202, 202, 200, 404, 200, 200, 200]
--- response_body_filters eval
[([\&main::short]) x 5,
 main::prom(qr/^signalr_(?:output|rest)/),
 main::json_view(qw(output_actions rest_calls rest_retries rest_duration)),
 main::html(qw(actions rest))]
--- response_body eval
['{"completed":1,"total":1}
', '{"completed":1,"total":1,"recipients":[{"action":0,"userId":"u1","completed":true},{"action":0,"userId":"u2","completed":true},{"action":0,"userId":"u3","completed":true}]}
', '{"completed":5,"total":5}
', '{"exists":true}
', '{"error":"send to user: the service refused it","failed":0,"endpoint":"t7ep","status":404,"errorCode":"Warning.User.NotExisted","completed":0,"total":1}
',
'promtool: ok
signalr_output_actions_total{action="add_user_to_group"} 1
signalr_output_actions_total{action="broadcast"} 1
signalr_output_actions_total{action="close_connection"} 1
signalr_output_actions_total{action="close_hub_connections"} 1
signalr_output_actions_total{action="group_exists"} 1
signalr_output_actions_total{action="remove_connection_from_group"} 1
signalr_output_actions_total{action="send_to_group"} 1
signalr_output_actions_total{action="send_to_user"} 4
signalr_rest_calls_total{endpoint="t7ep",class="2xx",code=""} 10
signalr_rest_calls_total{endpoint="t7ep",class="4xx",code="Warning.User.NotExisted"} 1
signalr_rest_duration_seconds_bucket{endpoint="t7ep",le="+Inf"} 11
signalr_rest_duration_seconds_count{endpoint="t7ep"} 11
',
'output_actions action=add_connection_to_group value=0
output_actions action=add_user_to_group value=1
output_actions action=broadcast value=1
output_actions action=close_connection value=1
output_actions action=close_group_connections value=0
output_actions action=close_hub_connections value=1
output_actions action=close_user_connections value=0
output_actions action=connection_exists value=0
output_actions action=group_exists value=1
output_actions action=invoke value=0
output_actions action=list_connections value=0
output_actions action=remove_connection_from_all_groups value=0
output_actions action=remove_connection_from_group value=1
output_actions action=remove_user_from_all_groups value=0
output_actions action=remove_user_from_group value=0
output_actions action=send_to_connection value=0
output_actions action=send_to_group value=1
output_actions action=send_to_user value=4
output_actions action=user_exists value=0
output_actions action=user_in_group value=0
rest_calls class=2xx code= endpoint=t7ep value=10
rest_calls class=4xx code=Warning.User.NotExisted endpoint=t7ep value=1
rest_retries endpoint=t7ep value=0
rest_duration count=11 endpoint=t7ep
',
'actions:
Action|Count
add_user_to_group|1
broadcast|1
close_connection|1
close_hub_connections|1
group_exists|1
remove_connection_from_group|1
send_to_group|1
send_to_user|4
rest:
Endpoint|Class|Code|Count
t7ep|2xx||10
t7ep|4xx|Warning.User.NotExisted|1
']
--- no_error_log
[error]



=== TEST 8: endpoints: a 503 retried, an endpoint that does not answer ("none"), retried; both offline with their last failure's status; a probe brings the one that works back, the other's fails
--- http_config eval
main::ep('t8up', 'probe=100ms offline_time=60s')
. "signalr_endpoint \"Endpoint=https://t8down.example.net;AccessKey=$SignalRTest::KEYS{B};Version=1.0;\" name=t8down type=secondary rest=/_dead check=off probe=100ms offline_time=60s;\n"
--- config
    location = /out { signalr_output t8hub; }
    location = /neg { signalr_negotiate t8hub; }
--- request eval
["POST /out\r\n{\"target\":\"t\",\"userId\":\"busy\"}",
 "GET /status?format=json",
 "POST /neg",
 "GET /status",
 "GET /status?format=json",
 "GET /status?format=html",
 "GET /errlog"]
--- error_code eval
[502, 200, 200, 200, 200, 200, 200, 200]
--- response_body_filters eval
[[\&main::short],
 [sub {
     # the probes are due 100 ms after the endpoints went offline
     select(undef, undef, undef, 0.3);
     my $j = JSON::PP->new->decode($_[0]);
     CORE::join '', map { "$_->{name} online=" . ($_->{online} ? 1 : 0)
                    . " last_failure_status=$_->{last_failure_status}"
                    . " probes=$_->{probes}\n" } @{ $j->{endpoints} }
 }],
 [sub { $_[0] =~ /"accessToken"/ ? "token\n" : $_[0] }],
 main::prom(qr/^signalr_(?:endpoint|rest|negotiate_tokens)/),
 [sub {
     my $j = JSON::PP->new->decode($_[0]);
     CORE::join '', map { "$_->{name} $_->{type} online=" . ($_->{online} ? 1 : 0)
                    . " since=" . (abs($_->{since} - time) < 120 ? 'NOW' : $_->{since})
                    . " last_failure=" . (abs($_->{last_failure} - time) < 120 ? 'NOW' : $_->{last_failure})
                    . " status=$_->{last_failure_status}"
                    . " probes=$_->{probes} failed=$_->{probes_failed}"
                    . " probe_status=$_->{last_probe_status}\n" } @{ $j->{endpoints} }
 }],
 main::html('endpoints'),
 main::errlog('REST call "send to user" to endpoint "t8up" failed with status 503',
              'REST call "send to user" to endpoint "t8down" failed with status 502')]
--- response_body eval
['{"error":"send to user: the service failed","failed":0,"endpoint":"t8up","status":503,"errorCode":null,"completed":0,"total":1,"endpoints":[{"name":"t8up","completed":0,"failures":[{"action":0,"status":503,"errorCode":null,"error":"the service failed"}]},{"name":"t8down","completed":0,"failures":[{"action":0,"status":502,"errorCode":null,"error":"the service could not be reached"}]}]}' . "\n",
"t8up online=0 last_failure_status=503 probes=0
t8down online=0 last_failure_status=502 probes=0
",
"token\n",
'promtool: ok
signalr_endpoint_online{endpoint="t8up",type="primary"} 1
signalr_endpoint_online{endpoint="t8down",type="secondary"} 0
signalr_endpoint_since_seconds{endpoint="t8up"} NOW
signalr_endpoint_since_seconds{endpoint="t8down"} NOW
signalr_endpoint_last_failure_seconds{endpoint="t8up"} NOW
signalr_endpoint_last_failure_seconds{endpoint="t8down"} NOW
signalr_endpoint_last_failure_status{endpoint="t8up"} 503
signalr_endpoint_last_failure_status{endpoint="t8down"} 502
signalr_endpoint_last_probe_seconds{endpoint="t8up"} NOW
signalr_endpoint_last_probe_seconds{endpoint="t8down"} NOW
signalr_endpoint_last_probe_status{endpoint="t8up"} 202
signalr_endpoint_last_probe_status{endpoint="t8down"} 502
signalr_endpoint_probes_total{endpoint="t8up"} 1
signalr_endpoint_probes_total{endpoint="t8down"} 1
signalr_endpoint_probes_failed_total{endpoint="t8down"} 1
signalr_negotiate_tokens_total{hub="t8hub",endpoint="t8up"} 1
signalr_rest_calls_total{endpoint="t8down",class="none",code=""} 3
signalr_rest_calls_total{endpoint="t8up",class="5xx",code=""} 3
signalr_rest_retries_total{endpoint="t8down"} 2
signalr_rest_retries_total{endpoint="t8up"} 2
signalr_rest_duration_seconds_bucket{endpoint="t8down",le="+Inf"} 3
signalr_rest_duration_seconds_count{endpoint="t8down"} 3
signalr_rest_duration_seconds_bucket{endpoint="t8up",le="+Inf"} 3
signalr_rest_duration_seconds_count{endpoint="t8up"} 3
',
"t8up primary online=1 since=NOW last_failure=NOW status=503 probes=1 failed=0 probe_status=202
t8down secondary online=0 since=NOW last_failure=NOW status=502 probes=1 failed=1 probe_status=502
",
'endpoints:
Endpoint|Type|State|Since|Last failure|Last failure status|Probes|Failed probes|Entra ID key age|Entra ID refresh failures|REST 2xx|REST 4xx|REST 5xx|REST no answer|Retries|Mean REST time
t8up|primary|online|TIME|TIME|503|1|0|-|-|0|0|3|0|2|N ms
t8down|secondary|offline|TIME|TIME|502|1|1|-|-|0|0|0|3|2|N ms
',
'logged: REST call "send to user" to endpoint "t8up" failed with status 503
logged: REST call "send to user" to endpoint "t8down" failed with status 502
']



=== TEST 9: formats: ?format= and Accept choose Prometheus text, JSON or HTML; no-store; Vary: Accept
--- http_config eval
main::ep('t9ep')
--- config
    location = /neg { signalr_negotiate t9hub; }
--- request eval
["POST /neg",
 "GET /status",
 "GET /status",
 "GET /status",
 "GET /status?format=prometheus",
 "GET /status?format=json",
 "GET /status?format=html",
 "GET /status",
 "GET /status",
 "GET /status?format=prometheus",
 "HEAD /status"]
--- more_headers eval
["", "",
 "Accept: */*\r\n",
 "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n",
 "", "", "",
 "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n",
 "Accept: application/json\r\n",
 "Accept: text/html\r\n",
 ""]
--- error_code eval
[200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
--- response_headers eval
["",
 ("Content-Type: text/plain; version=0.0.4; charset=utf-8\nCache-Control: no-store\nVary: Accept") x 4,
 "Content-Type: application/json\nCache-Control: no-store\nVary: Accept",
 "Content-Type: text/html; charset=utf-8\nCache-Control: no-store\nVary: Accept",
 "Content-Type: text/html; charset=utf-8\nCache-Control: no-store\nVary: Accept",
 "Content-Type: application/json\nCache-Control: no-store\nVary: Accept",
 "Content-Type: text/plain; version=0.0.4; charset=utf-8\nCache-Control: no-store\nVary: Accept",
 "Content-Type: text/plain; version=0.0.4; charset=utf-8\nCache-Control: no-store\nVary: Accept"]
--- response_body_filters eval
my $prom = main::prom(qr/^signalr_(?:info|negotiate_tokens|status_zone_series\{state="used")/);
my $json = sub {
    my $j = eval { JSON::PP->new->decode($_[0]) } or return "not JSON: $@";
    my ($t) = grep { $_->{hub} eq 't9hub' } @{ $j->{negotiate_tokens} };
    return "version=$j->{version} nginx=$j->{nginx_version}"
        . " time=" . (abs($j->{time} - time) < 120 ? 'NOW' : $j->{time})
        . " created=" . (abs($j->{zone}{created} - time) < 120 ? 'NOW' : $j->{zone}{created})
        . " series>0=" . ($j->{zone}{series} > 0 ? 1 : 0)
        . " full=$j->{zone}{full}"
        . " endpoints=" . CORE::join(',', map { "$_->{name}:$_->{type}:" . ($_->{online} ? 'online' : 'offline') . ':' . (defined $_->{entra} ? 'entra' : 'key') } @{ $j->{endpoints} })
        . " tokens=$t->{endpoint}:$t->{value}"
        . " keys=" . CORE::join(',', sort keys %$j) . "\n";
};
my $html = sub {
    my ($b) = @_;
    my @bad;
    push @bad, 'no refresh' unless $b =~ m{<meta http-equiv="refresh" content="5">};
    push @bad, 'script' if $b =~ /<script/i;
    push @bad, "external $1" while $b =~ /((?:src|href)\s*=\s*["']?(?:https?:)?\/\/[^"' >]*)/gi;
    push @bad, 'not a page' unless $b =~ m{\A<!DOCTYPE html>\n<html lang="en">.*</body></html>\n\z}s;
    return (@bad ? CORE::join(', ', @bad) . "\n" : "html ok\n") . main::html_table($b, 'hubs');
};
[[sub { "token\n" }], $prom, $prom, $prom, $prom, [$json], [$html],
 [$html], [$json], $prom, [sub { "[$_[0]]\n" }]]
--- response_body eval
# 36 series: the 7 "other" ones, 7 refusal reasons and 20 actions made
# with the zone, the hub's name and its tokens
my $prom = 'promtool: ok
signalr_info{version="' . SignalRTest::module_version() . '",nginx_version="' . (`$ENV{TEST_NGINX_BINARY} -v 2>&1` =~ m{nginx/(\S+)})[0] . '"} 1
signalr_status_zone_series{state="used"} 36
signalr_negotiate_tokens_total{hub="t9hub",endpoint="t9ep"} 1
';
my $json = "version=" . SignalRTest::module_version() . " nginx=" . (`$ENV{TEST_NGINX_BINARY} -v 2>&1` =~ m{nginx/(\S+)})[0]
    . " time=NOW created=NOW series>0=1 full=0 endpoints=t9ep:primary:online:key tokens=t9ep:1"
    . " keys=endpoints,negotiate_refused,negotiate_tokens,nginx_version,output_actions,rest_calls,rest_duration,rest_retries,time,trigger_calls,trigger_route_duration,version,zone\n";
my $html = "html ok\nHub|Tokens issued|Upstream calls answered|Bad signature|Refused by the route|No route|Unsupported media type|Other 4xx|5xx|Route failed|Mean route time\nt9hub|1|0|0|0|0|0|0|0|0|-\n";
["token\n", $prom, $prom, $prom, $prom, $json, $html, $html, $json, $prom, "[]\n"]
--- no_error_log
[error]



=== TEST 10: formats: an unknown ?format= is 400, other methods 405, both in JSON
--- http_config eval
main::ep('t10ep')
--- config
--- request eval
["GET /status?format=x", "GET /status?format=", "GET /status?format=JSON",
 "POST /status\r\nbody", "PUT /status", "DELETE /status"]
--- error_code eval
[400, 400, 400, 405, 405, 405]
--- response_headers eval
[("Content-Type: application/json") x 3,
 ("Content-Type: application/json\nAllow: GET, HEAD") x 3]
--- response_body eval
[('{"error":"format is \"prometheus\", \"json\" or \"html\""}') x 3,
 ('{"error":"the status page takes GET"}') x 3]
--- no_error_log
[error]



=== TEST 11: without signalr_status_zone the page works with the default zone (1 MB, 32 hubs, 64 events)
--- http_config eval
main::ep('t11ep') . "#default zone\n"
--- config
    location = /neg { signalr_negotiate t11hub; }
--- request eval
["POST /neg", "GET /status"]
--- response_body_filters eval
# the table of a 1 MB zone takes 1500 to 1800 series (464 bytes each on
# 64 bits, three quarters of the table)
[[\&main::short],
 [sub {
     my $o = main::prom(qr/^signalr_(?:negotiate_tokens|status_zone_series\{state="max")/)->[0]->($_[0]);
     $o =~ s/(state="max"\}) (\d+)/"$1 " . ($2 >= 1500 && $2 <= 1800 ? 'of 1 MB' : $2)/e;
     $o
 }]]
--- response_body eval
["token\n", 'promtool: ok
signalr_status_zone_series{state="max"} of 1 MB
signalr_negotiate_tokens_total{hub="t11hub",endpoint="t11ep"} 1
']
--- no_error_log
[error]



=== TEST 12: a reload keeps the counters: counted before a SIGHUP to the master, read back from the new workers
--- http_config eval
main::ep('t12ep')
--- config
    location = /neg { signalr_negotiate t12hub; }
    location = /pid { return 200 $pid; }
--- request eval
["POST /neg", "POST /neg", "GET /status", "GET /pid", "POST /neg", "GET /status"]
--- response_body_filters eval
my @old;
[[sub { "token\n" }], [sub { "token\n" }],
 [sub {
     my $c = main::prom(qr/^signalr_(?:negotiate_tokens|status_zone_created)/)->[0]->($_[0]);
     # the reload: new workers, the old ones gone
     my $pidfile = $Test::Nginx::Util::PidFile;
     @old = SignalRTest::workers($pidfile);
     my $master = SignalRTest::read_file($pidfile);
     CORE::chomp $master;
     kill 'HUP', $master or return "no master: $!\n";
     for (1 .. 100) {
         select(undef, undef, undef, 0.1);
         my @w = SignalRTest::workers($pidfile);
         my %o = map { $_ => 1 } @old;
         last if @w == 2 && !grep { $o{$_} } @w;
     }
     $c
 }],
 [sub { my $p = $_[0]; (grep { $_ == $p } @old) ? "an old worker $p\n" : "a new worker\n" }],
 [sub { "token\n" }],
 main::prom(qr/^signalr_(?:negotiate_tokens|status_zone_created)/)]
--- response_body eval
["token\n", "token\n",
'promtool: ok
signalr_status_zone_created_seconds NOW
signalr_negotiate_tokens_total{hub="t12hub",endpoint="t12ep"} 2
',
"a new worker\n", "token\n",
'promtool: ok
signalr_status_zone_created_seconds NOW
signalr_negotiate_tokens_total{hub="t12hub",endpoint="t12ep"} 3
']
--- no_error_log
[error]



=== TEST 13: with two workers, every request is counted once, whichever worker took it
--- http_config eval
main::ep('t13ep')
--- config
    location = /neg { signalr_negotiate t13hub; }
--- request eval
[("POST /neg") x 40, "GET /status"]
--- response_body_filters eval
[([sub { "token\n" }]) x 40, main::prom(qr/^signalr_negotiate_tokens/)]
--- response_body eval
[("token\n") x 40, 'promtool: ok
signalr_negotiate_tokens_total{hub="t13hub",endpoint="t13ep"} 40
']
--- no_error_log
[error]



=== TEST 14: signalr_status_zone: a size that is not one fails the configuration
--- http_config
signalr_status_zone big;
--- config
--- must_die
--- error_log
"signalr_status_zone" size "big" is invalid or smaller than 256k



=== TEST 15: signalr_status_zone: a size under 64 pages fails the configuration
--- http_config
signalr_status_zone 128k;
--- config
--- must_die
--- error_log
"signalr_status_zone" size "128k" is invalid or smaller than 256k



=== TEST 16: signalr_status_zone: hubs=0 fails the configuration
--- http_config
signalr_status_zone 1m hubs=0;
--- config
--- must_die
--- error_log
"signalr_status_zone" takes "hubs=" and "events=" from 1 to 10000, not "hubs=0"



=== TEST 17: signalr_status_zone: events=x and events over 10000 fail the configuration
--- http_config
signalr_status_zone 1m events=x;
--- config
--- must_die
--- error_log
"signalr_status_zone" takes "hubs=" and "events=" from 1 to 10000, not "events=x"



=== TEST 18: signalr_status_zone: events=10001 fails the configuration
--- http_config
signalr_status_zone 1m hubs=10000 events=10001;
--- config
--- must_die
--- error_log
"signalr_status_zone" takes "hubs=" and "events=" from 1 to 10000, not "events=10001"



=== TEST 19: signalr_status_zone: an unknown parameter fails the configuration
--- http_config
signalr_status_zone 1m zone=x;
--- config
--- must_die
--- error_log
"signalr_status_zone" takes "hubs=" and "events=" from 1 to 10000, not "zone=x"



=== TEST 20: signalr_status_zone twice fails the configuration
--- http_config
signalr_status_zone 1m;
signalr_status_zone 2m;
--- config
--- must_die
--- error_log
"signalr_status_zone" directive is duplicate



=== TEST 21: signalr_status twice in a location fails the configuration
--- config
    location = /s { signalr_status; signalr_status; }
--- must_die
--- error_log
"signalr_status" directive is duplicate



=== TEST 22: signalr_status in a location that already has a signalr content handler fails the configuration
--- http_config eval
main::ep('t22ep')
--- config
    location = /s { signalr_negotiate chat; signalr_status; }
--- must_die
--- error_log
"signalr_status" directive cannot be in the location of another of signalr_negotiate, signalr_trigger, signalr_output and signalr_status



=== TEST 22b: nor the other way round
--- http_config eval
main::ep('t22bep')
--- config
    location = /s { signalr_status; signalr_negotiate chat; }
--- must_die
--- error_log
"signalr_negotiate" directive cannot be in the location of another of signalr_negotiate, signalr_trigger, signalr_output and signalr_status




=== TEST 23: signalr_status takes no argument, and only in a location
--- config
    location = /s { signalr_status json; }
--- must_die
--- error_log
invalid number of arguments in "signalr_status" directive



=== TEST 24: signalr_status_zone only at the http level
--- config
    signalr_status_zone 1m;
--- must_die
--- error_log
"signalr_status_zone" directive is not allowed here



=== TEST 25: a call that nginx refuses while the trigger reads it (413: a chunked body too large) and an error_page answers is counted all the same (the error_page's internal redirect clears the request's contexts)
--- http_config eval
main::ep('t25ep')
--- config
    error_page 413 = @t25big;
    location @t25big { return 413 "too big\n"; }
    location = /upstream {
        client_max_body_size 10;
        signalr_trigger /route;
    }
    location = /route { return 204; }
--- request eval
[("POST /upstream\r\n" . main::chunked(substr(main::inv('t25ev'), 16))) x 2,
 "GET /status"]
--- more_headers eval
[main::up('X-ASRS-Hub' => 't25hub', 'Transfer-Encoding' => 'chunked'),
 main::up('X-ASRS-Hub' => 't25hub', 'Transfer-Encoding' => 'chunked'), ""]
--- error_code eval
[413, 413, 200]
--- response_body_filters eval
[[\&main::short], [\&main::short], main::prom(qr/^signalr_trigger_calls/)]
--- response_body eval
["too big\n\n", "too big\n\n",
'promtool: ok
signalr_trigger_calls_total{hub="unverified",category="unverified",event="unverified",outcome="client_error"} 2
']
--- no_error_log
[alert]
[crit]



=== TEST 26: a zone full of names: new hubs are counted as "other", signalr_status_zone_full_total counts each, a warning tells once, and nothing else changes
--- http_config eval
main::ep('t26ep') . "signalr_status_zone 256k hubs=10000;\n"
--- config
    location = /neg { signalr_negotiate $arg_hub; }
--- request eval
["POST /neg?hub=other", (map { "POST /neg?hub=t26h$_" } 1 .. 230), "GET /status", "GET /errlog"]
--- error_code eval
[(200) x 231, 200, 200]
--- response_body_filters eval
[([\&main::short]) x 231,
 [sub {
     my ($body) = @_;
     my $out = SignalRTest::promtool_check($body);
     my ($other) = $body =~ /^signalr_negotiate_tokens_total\{hub="other",endpoint="t26ep"\} (\d+)$/m;
     my ($full) = $body =~ /^signalr_status_zone_full_total (\d+)$/m;
     my $named = () = $body =~ /^signalr_negotiate_tokens_total\{hub="t26h\d+",endpoint="t26ep"\} 1$/mg;
     my ($used, $max) = $body =~ /^signalr_status_zone_series\{state="used"\} (\d+)\nsignalr_status_zone_series\{state="max"\} (\d+)$/m;
     $out .= "full: " . ($full > 0 ? "yes" : "no") . "\n";
     # a name that came in when one series was left: its token is in the
     # series of no endpoint either
     my ($both) = $body =~ /^signalr_negotiate_tokens_total\{hub="other",endpoint="other"\} (\d+)$/m;
     $out .= "other: 1 + full\n" if $other + ($both // 0) == 1 + $full;
     $out .= "named + full: " . ($named + $full) . "\n";
     $out .= "used = max\n" if $used == $max;
     $out;
 }],
 main::errlog('the status zone is full')]
--- response_body eval
[("token\n") x 231,
'promtool: ok
full: yes
other: 1 + full
named + full: 230
used = max
',
'logged: the status zone is full
']
--- no_error_log
[error]



=== TEST 27: an endpoint name must be UTF-8 text without control characters (it is shown as it is)
--- http_config eval
"signalr_endpoint \"Endpoint=https://t27.example.net;AccessKey=$SignalRTest::KEYS{S1};Version=1.0;\" \"name=a\\tb\";\n"
--- config
    location = /s { return 204; }
--- must_die
--- error_log
invalid endpoint name in "signalr_endpoint": UTF-8 text without control characters expected
