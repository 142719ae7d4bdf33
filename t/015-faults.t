# The fault matrix (issue 14 §2): what a failing REST location (the REST
# calls of signalr_output) and a failing route (the trigger's route
# subrequest) make of the answer, and how many calls each fault causes,
# counted by the stand-in that took them (or, for a closed port, by
# nginx's "connect() failed" lines). docs/reliability.md has the matrix.
#
# Cells covered elsewhere, not repeated here:
#
#   REST location (signalr_output)              where
#   closed port, close (retried, 3 attempts)    t/004-output.t TEST 31
#   closed port, retries 0, several endpoints   t/004-output.t TEST 20, 21
#   2xx, body cut before Content-Length (send)  t/004-output.t TEST 66
#   2xx, chunked body broken (send)             t/005-hardening.t TEST 15
#   2xx, no length, cut by a timeout (send)     t/005-hardening.t TEST 17
#   timeout, send, retries 1 (2 attempts)       t/004-output.t TEST 30
#   timeout, one of two endpoints               t/004-output.t TEST 61
#   timeout, invoke (never retried)             t/012-actions.t TEST 7
#   500 send (not retried), 500 group (3)       t/004-output.t TEST 22, 23
#   408 group (retried) and send (not)          t/004-output.t TEST 24
#   503 send (retried), retries 3 and 0         t/004-output.t TEST 25
#   503 once, then 202                          t/004-output.t TEST 26
#   429 send with Retry-After                   t/004-output.t TEST 27
#   400 404 413 401 403 3xx 405 501             t/004-output.t TEST 29
#   500 exists, list (retried), invoke (not)    t/012-actions.t TEST 21
#   408 invoke, 500 invoke with a message       t/012-actions.t TEST 23, 6
#   error_page answering after a failure        t/005-hardening.t TEST 7,
#                                               t/004-output.t TEST 63
#   client gone during the retries' backoff     t/004-output.t TEST 52
#
#   route (signalr_trigger)                     where
#   closed port, invocation                     t/003-trigger.t TEST 26
#   timeout (slow body), invocation             t/003-trigger.t TEST 25
#   return 444 / 408 in the route, invocation   t/005-hardening.t TEST 11
#   body cut before Content-Length, invocation  t/005-hardening.t TEST 8
#   chunked body broken, invocation             t/005-hardening.t TEST 16
#   no length, ended by close (a result)        t/005-hardening.t TEST 10
#   401 500 404 to connected; 500 to disconnected
#                                               t/003-trigger.t TEST 15, 16
#   500 to a send, 502 to an invocation         t/003-trigger.t TEST 18, 19, 28
#   result just over 1 MB                       t/003-trigger.t TEST 30
#
# Each request names its fault in its query (?f=<fault>, "+" for a
# space): the REST location and the route pass it on to the stand-in in
# X-Fault, through $request, which a subrequest shares with its main
# request.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_LINGER);
use POSIX ();
use File::Temp ();

our $CS_A = 'Endpoint=https://contoso.service.signalr.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
our $CS_S1 = 'Endpoint=https://a.example.net;'
    . "AccessKey=$SignalRTest::KEYS{S1};Version=1.0;";

# an upstream call of the service signed with key S1 (t/003-trigger.t)
our $CID = '0f9c97a2f0bf4706afe87a14e0797b11';
our $SIG1 = 'sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561';
our $INVOCATION = '{"type":1,"invocationId":"0","target":"broadcast","arguments":["hello"]}';
our $SEND = '{"type":1,"target":"broadcast","arguments":["hello"]}';

sub upstream {
    my ($category, $event) = @_;
    return "X-ASRS-Connection-Id: $CID\nX-ASRS-Hub: chat\n"
        . "X-ASRS-Category: $category\nX-ASRS-Event: $event\n"
        . "X-ASRS-Signature: $SIG1\nContent-Type: application/json\n";
}

our $FAILED = qq({"type":3,"invocationId":"0","error":"Invocation failed."}\x1e);

# ---- the stand-in ---------------------------------------------------------
#
# One TCP server for the whole file (Test::Nginx's tcp_listen takes a single
# connection, so retries would meet a closed port): a process forked here,
# one child per connection. A request's X-Fault header ("<tag> <fault>
# <args>", set by the REST location or the route with proxy_set_header;
# spaces or "+")
# says what to do with it, after the whole request is read and logged as
# "<method> <uri>" to the log of <tag> (the test block); GET /_calls/<tag>
# answers that log. Faults:
#
#   reset            no answer: the connection reset (RST, SO_LINGER 0)
#   close            no answer: the connection closed (FIN)
#   head <s>         the status line and headers (Content-Length: 100), then close
#   cut <s>          the same and 10 bytes of the body, then close
#   mute             no answer: the connection held until nginx closes it
#   status <s> [h=v ...]  a whole answer, "{}", with the headers h: v
#   big <s>          a whole answer of 64 MiB (a JSON string)

our $FAULT_PORT = $ENV{TEST_NGINX_FAULT_PORT}
    || ($ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984) + 2;
$ENV{TEST_NGINX_FAULT_PORT} = $FAULT_PORT;

our $BIG = 64 * 1024 * 1024;
our $CALLS = File::Temp::tempdir(CLEANUP => 1);
our $STANDIN;

sub standin_request {
    my ($c) = @_;
    my $buf = '';
    my $end;

    while (($end = index($buf, "\r\n\r\n")) < 0) {
        my $n = sysread($c, $buf, 65536, length $buf);
        return undef unless $n;
    }

    my $head = substr($buf, 0, $end);
    my $body = substr($buf, $end + 4);
    my ($method, $uri) = $head =~ /^(\S+) (\S+)/;
    my ($len) = $head =~ /\r\ncontent-length: *(\d+)/i;
    my ($fault) = $head =~ /\r\nx-fault: *([^\r]*)/i;

    while (defined $len && length $body < $len) {
        my $n = sysread($c, $body, 65536, length $body);
        return undef unless $n;
    }

    return ($method, $uri, $fault // '');
}

sub standin_answer {
    my ($c, $status, $headers, $body) = @_;
    my $h = "HTTP/1.1 $status X\r\nConnection: close\r\n";
    $h .= "$_\r\n" for @$headers;
    syswrite($c, $h . "\r\n" . $body);
}

sub standin_serve {
    my ($c) = @_;
    my ($method, $uri, $fault) = standin_request($c);
    return unless defined $method;

    if ($uri =~ m{^/_calls/(\w+)$}) {
        my $log = '';
        if (open my $fh, '<', "$CALLS/$1") {
            local $/;
            $log = <$fh>;
        }
        standin_answer($c, 200, ["Content-Length: " . length $log], $log);
        return;
    }

    my ($tag, $what, @args) = split /[ +]+/, $fault;
    $tag //= 'none';
    $what //= '';

    if (open my $fh, '>>', "$CALLS/$tag") {
        syswrite($fh, "$method $uri\n");
        close $fh;
    }

    if ($what eq 'reset') {
        setsockopt($c, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));

    } elsif ($what eq 'head' || $what eq 'cut') {
        syswrite($c, "HTTP/1.1 $args[0] X\r\nContent-Type: application/json\r\n"
                     . "Content-Length: 100\r\n\r\n"
                     . ($what eq 'cut' ? '{"partial' : ''));

    } elsif ($what eq 'mute') {
        my $b;
        1 while sysread($c, $b, 4096);

    } elsif ($what eq 'status') {
        my @h = map { my ($n, $v) = split /=/, $_, 2; "$n: $v" } @args[1 .. $#args];
        standin_answer($c, $args[0], ['Content-Type: application/json',
                                      'Content-Length: 2', @h], '{}');

    } elsif ($what eq 'big') {
        my $chunk = 'x' x (1024 * 1024);
        syswrite($c, "HTTP/1.1 $args[0] X\r\nConnection: close\r\n"
                     . "Content-Type: application/json\r\n"
                     . "Content-Length: $BIG\r\n\r\n\"" . ('x' x (1024 * 1024 - 1)));
        for (2 .. 63) {
            last unless defined syswrite($c, $chunk);
        }
        syswrite($c, ('x' x (1024 * 1024 - 1)) . '"');
    }

    # "close", or after the answer
}

sub standin_start {
    my $listen = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
                                       LocalPort => $FAULT_PORT, Proto => 'tcp',
                                       ReuseAddr => 1)
        or die "the stand-in cannot listen on 127.0.0.1:$FAULT_PORT: $!";

    my $pid = fork // die "fork: $!";

    if ($pid) {
        close $listen;
        return $pid;
    }

    $SIG{PIPE} = 'IGNORE';
    $SIG{CHLD} = 'IGNORE';

    while (1) {
        my $c = $listen->accept or next;
        my $child = fork;
        if (defined $child && $child == 0) {
            close $listen;
            standin_serve($c);
            close $c;
            POSIX::_exit(0);
        }
        close $c;
    }
}

$STANDIN = standin_start();
my $parent = $$;

END {
    local $?;
    if ($STANDIN && $$ == $parent) {
        kill 'TERM', $STANDIN;
        waitpid $STANDIN, 0;
    }
}

# ---- the blocks ------------------------------------------------------------
#
# Each block's endpoint has a name of its own (a HUP reload keeps an endpoint
# offline by its name) and no probes (a probe through the stand-in would be
# counted); $fault_tag is the block's tag for the stand-in's log, which
# GET /calls reads; $fault is the fault of the request (?f=).

# The read timeout is long (a busy machine may take a while to fork the
# stand-in's child): the blocks of "no answer in time" shorten it to 300ms.
our $STANDIN_REST = <<'_EOC_';
    location /_signalr/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_FAULT_PORT;
        proxy_set_header X-Fault "$fault_tag $fault";
        proxy_read_timeout 10s;
    }
_EOC_

add_block_preprocessor(sub {
    my $block = shift;
    my ($n) = $block->name =~ /TEST (\w+)/;
    my $tag = "t$n";

    my $http = $block->http_config
        // "signalr_endpoint \"$CS_A\" name=f$n rest=/_signalr probe=off check=off;";
    $block->set_value("http_config", "$http
    map \$host \$fault_tag { default $tag; }
    map \$request \$fault { \"~[?&]f=(?<f>[^& ]+)\" \$f; default none; }
");

    my $config = $block->config;
    return unless defined $config;

    $config .= "\n$STANDIN_REST" unless $config =~ m{location /_signalr/ };
    $block->set_value("config", $config
        . "\n    location = /calls { proxy_pass "
        . "http://127.0.0.1:$FAULT_PORT/_calls/$tag; }"
        . "\n    location = /error.log { alias logs/error.log; }\n");
});

# the bodies of a block's requests as they are, and last the error log
# (GET /error.log: Test::Nginx checks the error log request by request),
# each line's level and message, reduced to what matches $re
sub errors {
    my ($n, $re) = @_;
    my $grep = sub {
        my @m;
        for (split /\n/, $_[0]) {
            s/^\S+ \S+ \[(\w+)\] \d+#\d+: (?:\*\d+ )?/[$1] /;
            s/(?: while [^,]*)?, client: .*//;
            push @m, $& while /$re/g;
        }
        return join "", map { "$_\n" } @m;
    };
    return [([sub { $_[0] }]) x $n, [$grep]];
}

# "POST /out?f=<fault>" with an action
sub out {
    my ($fault, $body) = @_;
    return "POST /out?f=$fault\r\n$body";
}

our $SEND_T = '{"target":"t"}';
our $ADD = '{"action":"add","groupName":"g","connectionId":"c"}';
our $REMOVE = '{"action":"remove","groupName":"g","userId":"u"}';
our $INVOKE = '{"action":"invoke","connectionId":"c","target":"t"}';
our $EXISTS = '{"action":"exists","userId":"u"}';
our $LIST = '{"action":"listConnections","groupName":"g"}';

# the failure body of one action at the endpoint of the block
sub failure {
    my ($n, $what, $status, $code) = @_;
    $code = defined $code ? "\"$code\"" : 'null';
    return qq({"error":"$what","failed":0,"endpoint":"f$n","status":$status,"errorCode":$code,"completed":0,"total":1});
}

# the REST calls as the stand-in logged them
our $C_SEND = "POST /api/hubs/chat/:send?api-version=2022-06-01\n";
our $C_ADD = "PUT /api/hubs/chat/groups/g/connections/c?api-version=2022-06-01\n";
our $C_REMOVE = "DELETE /api/hubs/chat/users/u/groups/g?api-version=2022-06-01\n";
our $C_INVOKE = "POST /api/hubs/chat/connections/c/:invoke?api-version=2024-12-01\n";
our $C_EXISTS = "HEAD /api/hubs/chat/users/u?api-version=2022-06-01\n";
our $C_LIST = "GET /api/hubs/chat/groups/g/connections?api-version=2024-12-01&maxpagesize=200\n";

# route calls: an upstream call "POST /upstream?f=<fault>" of an event
sub call {
    my ($fault, $body) = @_;
    return "POST /upstream?f=$fault\r\n$body";
}

our $CONNECTED = '{"type":10}';
our $DISCONNECTED = '{"type":11}';
our $H_CONNECTED = upstream("connections", "connected");
our $H_DISCONNECTED = upstream("connections", "disconnected");
our $H_MESSAGE = upstream("messages", "broadcast");

our $R_CONNECTED = "POST /route/connections/connected\n";
our $R_DISCONNECTED = "POST /route/connections/disconnected\n";
our $R_MESSAGE = "POST /route/messages/broadcast\n";

our $ROUTE = <<'_EOC_';
    location = /upstream { signalr_trigger /route/$signalr_category/$signalr_event; }
    location /route/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_FAULT_PORT;
        proxy_set_header X-Fault "$fault_tag $fault";
        proxy_read_timeout 10s;
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1a: REST location reset (RST), a send: retried, 3 calls, 502 "could not be reached", the endpoint marked offline (each cell of TEST 1 has an endpoint of its own: an online one, the normal path)
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("reset", $::SEND_T), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline/)
--- response_body eval
[main::failure("1a", "broadcast: the service could not be reached", 502),
 $::C_SEND x 3,
 "retry 1 of 2\nretry 2 of 2\nafter 3 attempts\nis marked offline\n"]



=== TEST 1b: REST location closed without a byte (as "return 444" does), a group add: retried, 3 calls, 502
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("close", $::ADD), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline/)
--- response_body eval
[main::failure("1b", "add connection to group: the service could not be reached", 502),
 $::C_ADD x 3,
 "retry 1 of 2\nretry 2 of 2\nafter 3 attempts\nis marked offline\n"]



=== TEST 1c: REST location, a 503 status line and headers then closed, a send: retried, 3 calls, 502
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("head+503", $::SEND_T), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline/)
--- response_body eval
[main::failure("1c", "broadcast: the service could not be reached", 502),
 $::C_SEND x 3,
 "retry 1 of 2\nretry 2 of 2\nafter 3 attempts\nis marked offline\n"]



=== TEST 1d: REST location, a 500 body cut short, a group add: retried, 3 calls, 502
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("cut+500", $::ADD), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline/)
--- response_body eval
[main::failure("1d", "add connection to group: the service could not be reached", 502),
 $::C_ADD x 3,
 "retry 1 of 2\nretry 2 of 2\nafter 3 attempts\nis marked offline\n"]



=== TEST 1e: REST location, a 500 body cut short, a send: no whole answer, retried as no answer (a whole 500 is not: TEST 5c), 3 calls, 502
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("cut+500", $::SEND_T), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline/)
--- response_body eval
[main::failure("1e", "broadcast: the service could not be reached", 502),
 $::C_SEND x 3,
 "retry 1 of 2\nretry 2 of 2\nafter 3 attempts\nis marked offline\n"]



=== TEST 1f: REST location reset, an existence check: retried, 3 calls, 502
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("reset", $::EXISTS), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline/)
--- response_body eval
[main::failure("1f", "user exists: the service could not be reached", 502),
 $::C_EXISTS x 3,
 "retry 1 of 2\nretry 2 of 2\nafter 3 attempts\nis marked offline\n"]



=== TEST 1g: REST location, a 500 "body cut short", an existence check: its call is a HEAD, whose answer nginx reads without a body, so it is a whole 500, which an existence check retries: 3 calls, 502 "the service failed" with status 500
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("cut+500", $::EXISTS), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline/)
--- response_body eval
[main::failure("1g", "user exists: the service failed", 500),
 $::C_EXISTS x 3,
 "retry 1 of 2\nretry 2 of 2\nafter 3 attempts\nis marked offline\n"]



=== TEST 1h: REST location reset, an invoke: never retried, 1 call, 502
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("reset", $::INVOKE), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline/)
--- response_body eval
[main::failure("1h", "invoke: the service could not be reached", 502),
 $::C_INVOKE,
 "after 1 attempts\nis marked offline\n"]



=== TEST 1i: REST location, a 503 status line and headers then closed, an invoke: never retried, 1 call, 502
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("head+503", $::INVOKE), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline/)
--- response_body eval
[main::failure("1i", "invoke: the service could not be reached", 502),
 $::C_INVOKE,
 "after 1 attempts\nis marked offline\n"]



=== TEST 2a: REST location down (a closed port), a send: retried, 3 connects; 502 (an endpoint of its own, online)
--- config
    location = /out { signalr_output chat; }
    location /_signalr/ { internal; proxy_pass http://127.0.0.1:1; }
--- request eval
[main::out("none", $::SEND_T), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/connect\(\) failed|is \w+ offline/)
--- response_body eval
[main::failure("2a", "broadcast: the service could not be reached", 502),
 "", "connect() failed\n" x 3 . "is marked offline\n"]



=== TEST 2b: REST location down (a closed port), an existence check: retried, 3 connects; 502 (an endpoint of its own, online)
--- config
    location = /out { signalr_output chat; }
    location /_signalr/ { internal; proxy_pass http://127.0.0.1:1; }
--- request eval
[main::out("none", $::EXISTS), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/connect\(\) failed|is \w+ offline/)
--- response_body eval
[main::failure("2b", "user exists: the service could not be reached", 502),
 "", "connect() failed\n" x 3 . "is marked offline\n"]



=== TEST 2c: REST location down (a closed port), an invoke: never retried, 1 connect; 502 (an endpoint of its own, online)
--- config
    location = /out { signalr_output chat; }
    location /_signalr/ { internal; proxy_pass http://127.0.0.1:1; }
--- request eval
[main::out("none", $::INVOKE), "GET /calls", "GET /error.log"]
--- error_code eval
[502, 200, 200]
--- response_body_filters eval
main::errors(2, qr/connect\(\) failed|is \w+ offline/)
--- response_body eval
[main::failure("2c", "invoke: the service could not be reached", 502),
 "", "connect() failed\n" x 1 . "is marked offline\n"]



=== TEST 3: REST location, a 2xx status line whose body never comes or is cut short: the service took the call, done and not sent again (1 call each)
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("head+202", $::SEND_T), main::out("cut+202", $::ADD),
 main::out("head+202", $::REMOVE), "GET /calls", "GET /error.log"]
--- error_code eval
[202, 202, 202, 200, 200]
--- response_body_filters eval
main::errors(4, qr/retry \d+ of \d+|offline|with status 202, and its answer was cut short: counted as done, not sent again/)
--- response_body eval
['{"completed":1,"total":1}', '{"completed":1,"total":1}',
 '{"completed":1,"total":1}', $::C_SEND . $::C_ADD . $::C_REMOVE,
 "with status 202, and its answer was cut short: counted as done, not sent again\n" x 3]



=== TEST 4: REST location, no answer in time (proxy_read_timeout 300ms on a stand-in that never answers): a group action and a list are retried, 3 calls each; 504. The add marks the endpoint offline; the list then runs on the same path as on an online endpoint (a list, as an existence check, goes to every endpoint, offline or not), which the log tells ("still offline")
--- config eval
"    location = /out { signalr_output chat; }
" . ($::STANDIN_REST =~ s/proxy_read_timeout 10s/proxy_read_timeout 300ms/r)
--- request eval
[main::out("mute", $::ADD), main::out("mute", $::LIST), "GET /calls",
 "GET /error.log"]
--- error_code eval
[504, 504, 200, 200]
--- response_body_filters eval
main::errors(3, qr/upstream timed out|is \w+ offline/)
--- response_body eval
[main::failure(4, "add connection to group: the service did not answer in time", 504),
 main::failure(4, "list connections: the service did not answer in time", 504),
 $::C_ADD x 3 . $::C_LIST x 3,
 "upstream timed out\n" x 3 . "is marked offline\n"
 . "upstream timed out\n" x 3 . "is still offline\n"]



=== TEST 5a: REST location, 502 (with x-ms-error-code, in the answer) to a send: retried, 3 calls (an endpoint of its own, online)
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("status+502+x-ms-error-code=Error.Service.Unavailable", $::SEND_T), "GET /calls"]
--- error_code eval
[502, 200]
--- response_body eval
[main::failure("5a", "broadcast: the service failed", 502, "Error.Service.Unavailable"),
 $::C_SEND x 3]



=== TEST 5b: REST location, 503 (with x-ms-error-code) to a group remove: retried, 3 calls (an endpoint of its own, online)
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("status+503+x-ms-error-code=Error.Service.Busy", $::REMOVE), "GET /calls"]
--- error_code eval
[502, 200]
--- response_body eval
[main::failure("5b", "remove user from group: the service failed", 503, "Error.Service.Busy"),
 $::C_REMOVE x 3]



=== TEST 5c: REST location, a whole 500 to a send: not retried (it may have been delivered), 1 call (an endpoint of its own, online)
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("status+500+x-ms-error-code=Error.Internal", $::SEND_T), "GET /calls"]
--- error_code eval
[502, 200]
--- response_body eval
[main::failure("5c", "broadcast: the service failed", 500, "Error.Internal"),
 $::C_SEND]



=== TEST 5d: REST location, 504 to a send: retried, 3 calls; 504 (an endpoint of its own, online)
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("status+504", $::SEND_T), "GET /calls"]
--- error_code eval
[504, 200]
--- response_body eval
[main::failure("5d", "broadcast: the service failed", 504),
 $::C_SEND x 3]



=== TEST 5e: REST location, 503 to an invoke: never retried, 1 call (an endpoint of its own, online)
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("status+503", $::INVOKE), "GET /calls"]
--- error_code eval
[502, 200]
--- response_body eval
[main::failure("5e", "invoke: the service failed", 503),
 $::C_INVOKE]



=== TEST 6: REST location 429: never retried (1 call), passed on with the service's Retry-After and x-ms-error-code, and without a Retry-After when the service gave none
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("status+429+Retry-After=120+x-ms-error-code=Error.Throttled", $::ADD),
 main::out("status+429", $::SEND_T), "GET /calls"]
--- error_code eval
[429, 429, 200]
--- response_headers eval
["Retry-After: 120\nContent-Type: application/json", "!Retry-After", ""]
--- response_body eval
[main::failure(6, "add connection to group: the service is throttling calls", 429, "Error.Throttled"),
 main::failure(6, "broadcast: the service is throttling calls", 429),
 $::C_ADD . $::C_SEND]
--- no_error_log
[error]



=== TEST 7: REST location, answers of 64 MiB: a send's 202 is done (1 call); an invoke's or a list's 200 is over the 1 MB kept, an answer not understood (1 call, 502); a group action's 503 is retried (3 calls); only that last failure takes the endpoint offline (an answer not understood does not: TEST 18), so each cell runs on an online endpoint
--- config
    location = /out { signalr_output chat; }
--- request eval
[main::out("big+202", $::SEND_T), main::out("big+200", $::INVOKE),
 main::out("big+200", $::LIST), main::out("big+503", $::ADD), "GET /calls",
 "GET /error.log"]
--- error_code eval
[202, 502, 502, 502, 200, 200]
--- response_body_filters eval
main::errors(5, qr/larger than \d+ bytes|retry \d+ of \d+|after \d+ attempts|is \w+ offline/)
--- response_body eval
['{"completed":1,"total":1}',
 main::failure(7, "invoke: the service gave an unexpected answer", 200),
 main::failure(7, "list connections: the service gave an unexpected answer", 200),
 main::failure(7, "add connection to group: the service failed", 503),
 $::C_SEND . $::C_INVOKE . $::C_LIST . $::C_ADD x 3,
 "larger than 1048576 bytes\n" x 2
 . "retry 1 of 2\nretry 2 of 2\nafter 3 attempts\nis marked offline\n"]
--- timeout: 10



=== TEST 8: the client goes away while the REST call waits for its answer: 1 call, nothing logged above info. The client gives up after 1 s, the REST location's read timeout is 2 s from the call, and the block waits 2.5 s more: a module that went on after the abort would log the timeout and retry (a 2nd call, TEST 9) at about 2.1 s, well before the end (about 3.5 s)
--- config
    location = /out { signalr_output chat; }
    location /_signalr/ {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_FAULT_PORT;
        proxy_set_header X-Fault "$fault_tag $fault";
        proxy_read_timeout 2s;
    }
--- request eval
main::out("mute", $::SEND_T)
--- timeout: 1
--- abort
--- ignore_response
--- wait: 2.5
--- no_error_log
[error]
[alert]
[crit]



=== TEST 9: the REST call count after the client went away (TEST 8's)
--- config
    location = /calls8 { proxy_pass http://127.0.0.1:$TEST_NGINX_FAULT_PORT/_calls/t8; }
--- request
GET /calls8
--- response_body eval
$::C_SEND
--- no_error_log
[error]



=== TEST 10: route down (a closed port): connected refused (403), disconnected and a send answered 200 and logged; 1 connect each, no retry
--- http_config eval
"signalr_endpoint \"$::CS_S1\" name=f10;"
--- config
    location = /upstream { signalr_trigger /route/$signalr_category/$signalr_event; }
    location /route/ { internal; proxy_pass http://127.0.0.1:1; }
--- request eval
[main::call("none", $::CONNECTED), main::call("none", $::DISCONNECTED),
 main::call("none", $::SEND), "GET /error.log"]
--- more_headers eval
[$::H_CONNECTED, $::H_DISCONNECTED, $::H_MESSAGE, ""]
--- error_code eval
[403, 200, 200, 200]
--- response_body_filters eval
main::errors(3, qr/\[\w+\] (?:connect\(\) failed|signalr: route ).*/)
--- response_body eval
['{"error":"connection refused"}', '', '',
"[error] connect() failed (111: Connection refused)
[info] signalr: route \"/route/connections/connected\" refused connection \"$::CID\" with 502
[error] connect() failed (111: Connection refused)
[error] signalr: route \"/route/connections/disconnected\" answered 502 to a disconnected event
[error] connect() failed (111: Connection refused)
[error] signalr: route \"/route/messages/broadcast\" answered 502 to \"broadcast\"
"]



=== TEST 11: route, no answer or half an answer (reset, a 200 status line and headers then closed, a 200 body cut short): an invocation fails, a connection is refused, a send is answered; 1 route call each
--- http_config eval
"signalr_endpoint \"$::CS_S1\" name=f11;"
--- config eval
$::ROUTE
--- request eval
[main::call("reset", $::INVOCATION), main::call("reset", $::CONNECTED),
 main::call("head+200", $::INVOCATION), main::call("head+200", $::CONNECTED),
 main::call("cut+200", $::CONNECTED), main::call("cut+200", $::SEND),
 "GET /calls"]
--- more_headers eval
[$::H_MESSAGE, $::H_CONNECTED, $::H_MESSAGE, $::H_CONNECTED, $::H_CONNECTED,
 $::H_MESSAGE, ""]
--- error_code eval
[200, 403, 200, 403, 403, 200, 200]
--- response_body eval
[$::FAILED, '{"error":"connection refused"}', $::FAILED,
 '{"error":"connection refused"}', '{"error":"connection refused"}', '',
 $::R_MESSAGE . $::R_CONNECTED . $::R_MESSAGE . $::R_CONNECTED . $::R_CONNECTED . $::R_MESSAGE]



=== TEST 12: route, no answer in time (proxy_read_timeout 300ms): a connection is refused, a send answered, an invocation fails; 1 route call each
--- http_config eval
"signalr_endpoint \"$::CS_S1\" name=f12;"
--- config eval
$::ROUTE =~ s/proxy_read_timeout 10s/proxy_read_timeout 300ms/r
--- request eval
[main::call("mute", $::CONNECTED), main::call("mute", $::SEND),
 main::call("mute", $::INVOCATION), "GET /calls", "GET /error.log"]
--- more_headers eval
[$::H_CONNECTED, $::H_MESSAGE, $::H_MESSAGE, "", ""]
--- error_code eval
[403, 200, 200, 200, 200]
--- response_body_filters eval
main::errors(4, qr/\[\w+\] (?:upstream timed out|signalr: route ).*/)
--- response_body eval
['{"error":"connection refused"}', '', $::FAILED,
 $::R_CONNECTED . $::R_MESSAGE . $::R_MESSAGE,
"[error] upstream timed out (110: Connection timed out)
[info] signalr: route \"/route/connections/connected\" refused connection \"$::CID\" with 504
[error] upstream timed out (110: Connection timed out)
[error] signalr: route \"/route/messages/broadcast\" answered 504 to \"broadcast\"
[error] upstream timed out (110: Connection timed out)
[error] signalr: route \"/route/messages/broadcast\" answered 504 to invocation \"0\" of \"broadcast\" (no response)
"]



=== TEST 13: route 5xx and 429: never retried (1 route call each); an invocation fails, a connection is refused, a disconnection is answered 200; the route's Retry-After is not passed on to the service
--- http_config eval
"signalr_endpoint \"$::CS_S1\" name=f13;"
--- config eval
$::ROUTE
--- request eval
[main::call("status+503+x-ms-error-code=E", $::INVOCATION),
 main::call("status+502", $::CONNECTED),
 main::call("status+500", $::DISCONNECTED),
 main::call("status+429+Retry-After=120", $::INVOCATION),
 main::call("status+429+Retry-After=120", $::CONNECTED),
 "GET /calls"]
--- more_headers eval
[$::H_MESSAGE, $::H_CONNECTED, $::H_DISCONNECTED, $::H_MESSAGE, $::H_CONNECTED, ""]
--- error_code eval
[200, 403, 200, 200, 403, 200]
--- response_headers eval
[("!Retry-After") x 6]
--- response_body eval
[$::FAILED, '{"error":"connection refused"}', '', $::FAILED,
 '{"error":"connection refused"}',
 $::R_MESSAGE . $::R_CONNECTED . $::R_DISCONNECTED . $::R_MESSAGE . $::R_CONNECTED]



=== TEST 14: route answers of 64 MiB: an invocation's result is over 1 MB (fails, logged); a connection is accepted and a send answered (their body is not read); 1 route call each
--- http_config eval
"signalr_endpoint \"$::CS_S1\" name=f14;"
--- config eval
$::ROUTE
--- request eval
[main::call("big+200", $::INVOCATION), main::call("big+200", $::CONNECTED),
 main::call("big+200", $::SEND), "GET /calls", "GET /error.log"]
--- more_headers eval
[$::H_MESSAGE, $::H_CONNECTED, $::H_MESSAGE, "", ""]
--- error_code eval
[200, 200, 200, 200, 200]
--- response_body_filters eval
main::errors(4, qr/\[(?:warn|error|alert|crit|emerg)\] .*/)
--- response_body eval
[$::FAILED, '', '', $::R_MESSAGE . $::R_CONNECTED . $::R_MESSAGE,
 "[error] signalr: the result of route \"/route/messages/broadcast\" is larger than 1048576 bytes\n"]
--- timeout: 10



=== TEST 15: the service goes away while the route has not answered: 1 route call, nothing logged above info. The service gives up after 1 s, the route's read timeout is 2 s from the call, and the block waits 2.5 s more: a module that went on after the abort would log the route's timeout and its 504 at about 2 s, before the end (about 3.5 s)
--- http_config eval
"signalr_endpoint \"$::CS_S1\" name=f15;"
--- config eval
$::ROUTE =~ s/proxy_read_timeout 10s/proxy_read_timeout 2s/r
--- request eval
main::call("mute", $::INVOCATION)
--- more_headers eval
$::H_MESSAGE
--- timeout: 1
--- abort
--- ignore_response
--- wait: 2.5
--- no_error_log
[error]
[alert]
[crit]



=== TEST 16: the route call count after the service went away (TEST 15's)
--- config
    location = /calls15 { proxy_pass http://127.0.0.1:$TEST_NGINX_FAULT_PORT/_calls/t15; }
--- request
GET /calls15
--- response_body eval
$::R_MESSAGE
--- no_error_log
[error]



=== TEST 17a: a route that is an output location whose REST location resets, an invocation: the send is retried (3 calls) inside the route; the invocation fails
--- http_config eval
"signalr_endpoint \"$::CS_S1\" name=f17a rest=/_signalr probe=off check=off;"
--- config
    location = /upstream { signalr_trigger /on/$signalr_category/$signalr_event; }
    location = /on/messages/broadcast {
        internal;
        signalr_output $signalr_hub;
        signalr_target newMessage;
        signalr_arguments $signalr_arguments;
    }
    location = /on/connections/connected {
        internal;
        signalr_output $signalr_hub;
        signalr_group_action add;
        signalr_connection_id $signalr_connection_id;
        signalr_group lobby;
    }
--- request eval
[main::call("reset", $::INVOCATION), "GET /calls", "GET /error.log"]
--- more_headers eval
[$::H_MESSAGE, "", ""]
--- error_code eval
[200, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline|signalr: route .*/)
--- response_body eval
[$::FAILED, "POST /api/hubs/chat/:send?api-version=2022-06-01\n" x 3,
"retry 1 of 2\nretry 2 of 2\nafter 3 attempts\nis marked offline
signalr: route \"/on/messages/broadcast\" answered 502 to invocation \"0\" of \"broadcast\"
"]



=== TEST 17b: a route that is an output location whose REST location resets, a connection: the group add is retried (3 calls) inside the route; the connection is refused
--- http_config eval
"signalr_endpoint \"$::CS_S1\" name=f17b rest=/_signalr probe=off check=off;"
--- config
    location = /upstream { signalr_trigger /on/$signalr_category/$signalr_event; }
    location = /on/messages/broadcast {
        internal;
        signalr_output $signalr_hub;
        signalr_target newMessage;
        signalr_arguments $signalr_arguments;
    }
    location = /on/connections/connected {
        internal;
        signalr_output $signalr_hub;
        signalr_group_action add;
        signalr_connection_id $signalr_connection_id;
        signalr_group lobby;
    }
--- request eval
[main::call("reset", $::CONNECTED), "GET /calls", "GET /error.log"]
--- more_headers eval
[$::H_CONNECTED, "", ""]
--- error_code eval
[403, 200, 200]
--- response_body_filters eval
main::errors(2, qr/retry \d+ of \d+|after \d+ attempts|is \w+ offline|signalr: route .*/)
--- response_body eval
['{"error":"connection refused"}',
 "PUT /api/hubs/chat/groups/lobby/connections/$::CID?api-version=2022-06-01\n" x 3,
"retry 1 of 2\nretry 2 of 2\nafter 3 attempts\nis marked offline
signalr: route \"/on/connections/connected\" refused connection \"$::CID\" with 502
"]



=== TEST 18: REST location, a 2xx status line then the body cut short, to an invoke and a list (whose answer is their result): an answer not understood, 502 with the service's status (200), 1 call each; the endpoint is not marked offline (the service answered) and the log does not say "counted as done"
--- config
    location = /out {
        signalr_output chat;
        add_header X-Rest $signalr_rest_status always;
    }
--- request eval
[main::out("cut+200", $::INVOKE), main::out("head+200", $::LIST), "GET /calls",
 "GET /error.log"]
--- error_code eval
[502, 502, 200, 200]
--- response_headers eval
["X-Rest: 200", "X-Rest: 200", "", ""]
--- response_body_filters eval
main::errors(3, qr/\[(?:warn|error)\] signalr: .*/)
--- response_body eval
[main::failure(18, "invoke: the service gave an unexpected answer", 200),
 main::failure(18, "list connections: the service gave an unexpected answer", 200),
 $::C_INVOKE . $::C_LIST,
'[error] signalr: the response of "/_signalr/api/hubs" ended before its end
[error] signalr: the answer of endpoint "f18" to REST call "invoke" was cut short or is larger than 1048576 bytes
[error] signalr: REST call "invoke" to endpoint "f18" got the unexpected status 200 (x-ms-error-code: none): check the "rest=" location, whose proxy_pass must name the service with no URI part
[error] signalr: the response of "/_signalr/api/hubs" ended before its end
[error] signalr: the answer of endpoint "f18" to REST call "list connections" was cut short or is larger than 1048576 bytes
[error] signalr: REST call "list connections" to endpoint "f18" got the unexpected status 200 (x-ms-error-code: none): check the "rest=" location, whose proxy_pass must name the service with no URI part
']
