package SignalRTest;

# Helpers for the Test::Nginx suites: independent HS256 verification
# (Digest::SHA, MIME::Base64) and canonical views of the module's output so
# that tests can assert exact bytes while the clock moves.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(decode_base64 encode_base64);

use Exporter 'import';
our @EXPORT_OK = qw(%KEYS b64url_decode b64url_encode verify_jwt);

# keys of the fixed test vectors (t/unit/test_jwt.c has the same)
our %KEYS = (
    A   => 'Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM=',
    EMU => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH',
    S1  => '7aab239577fd4f24bc919802fb629f5f',
    S2  => 'a5f2815d0d0c4b00bd27e832432f91ab',
    B   => 'second-key-for-rotation-0123456789abcdefgh=',
    # the key the Microsoft Entra ID stand-ins of t/011-entra.t exchange
    ENTRA => 'K3yFromTheExchange0123456789abcdefghijklmnopqrstuvwx',
);

sub b64url_decode {
    my ($s) = @_;
    return undef if $s =~ /[^A-Za-z0-9_-]/;
    $s =~ tr/-_/+\//;
    $s .= '=' x ((4 - length($s) % 4) % 4);
    return decode_base64($s);
}

sub b64url_encode {
    my ($s) = @_;
    my $e = encode_base64($s, '');
    $e =~ tr/+\//-_/;
    $e =~ s/=+$//;
    return $e;
}

# Returns a canonical text of a token: header, payload with the times
# replaced by NOW / NOW+<lifetime> (after checking that iat is within a few
# seconds of now and nbf = iat), and which known key signs it.
sub verify_jwt {
    my ($token) = @_;

    my @parts = split /\./, $token, -1;
    return "malformed token: " . scalar(@parts) . " parts\n" if @parts != 3;

    my $header = b64url_decode($parts[0]);
    my $payload = b64url_decode($parts[1]);
    return "malformed token: bad base64url\n"
        unless defined $header && defined $payload;

    my $signer = 'none';
    for my $name (sort keys %KEYS) {
        my $mac = b64url_encode(hmac_sha256("$parts[0].$parts[1]",
                                            $KEYS{$name}));
        if ($mac eq $parts[2]) {
            $signer = $name;
            last;
        }
    }

    my $now = time;
    my ($nbf) = $payload =~ /"nbf":(\d+)/;
    my ($exp) = $payload =~ /"exp":(\d+)/;
    my ($iat) = $payload =~ /"iat":(\d+)/;

    return "missing times in $payload\n"
        unless defined $nbf && defined $exp && defined $iat;
    return "iat $iat is not now ($now)\n" if abs($iat - $now) > 5;
    return "nbf $nbf differs from iat $iat\n" if $nbf != $iat;

    my $life = $exp - $iat;
    $payload =~ s/"nbf":$nbf,"exp":$exp,"iat":$iat/"nbf":NOW,"exp":NOW+$life,"iat":NOW/;

    return "header=$header\npayload=$payload\nsigned=$signer\n";
}

# response_body_filters for a negotiate response: checks the exact body
# shape and shows the token's canonical text.
# the "kid" of a negotiate answer's token as "key <n>", n counting the
# distinct key ids in the order they came (t/011-entra.t); any other body as
# it is
my @kids;
sub kid_order {
    my ($body) = @_;

    return $body unless $body =~ /"accessToken":"([A-Za-z0-9_-]+)\./;

    my $header = b64url_decode($1);
    my ($kid) = $header =~ /"kid":"([^"]*)"/ or return "no kid: $header\n";
    my ($n) = grep { $kids[$_] eq $kid } 0 .. $#kids;
    if (!defined $n) {
        push @kids, $kid;
        $n = $#kids;
    }
    return "key " . ($n + 1) . "\n";
}

sub negotiate {
    my ($body) = @_;

    if ($body !~ /^\{"url":"([^"\\]*)","accessToken":"([A-Za-z0-9_.-]+)"\}\z/) {
        return "unexpected body: $body";
    }

    my ($url, $token) = ($1, $2);
    return "token longer than 4096 characters\n" if length($token) > 4096;

    return "url=$url\n" . verify_jwt($token);
}

# response_body_filters for the REST mock's access log of t/004-output.t,
# written with
#   log_format rest escape=none '$request_method $request_uri|
#       $http_authorization|$http_content_type|$http_asrs_user_agent|
#       $http_cookie|$request_body';
# One entry per REST call: the request line, the body of sends, any header
# that is not what a REST call carries, and the token: "token <key> <host>"
# when it is a valid HS256 token of the REST form (one nameid "nginx",
# lifetime 300 s, aud = https://<host><the request path>?api-version=...);
# anything else is shown in full.
# the Asrs-User-Agent of REST calls: the module's version from its header,
# the version of the nginx under test
my $user_agent;

sub module_version {
    my $h = 'ngx_signalr_module/ngx_http_signalr_version.h';
    open my $fh, '<', $h or die "$h: $!";
    local $/;
    my ($v) = <$fh> =~ /#define\s+NGX_HTTP_SIGNALR_VERSION\s+"([^"]+)"/
        or die "$h: no NGX_HTTP_SIGNALR_VERSION";
    return $v;
}

sub user_agent {
    return $user_agent if defined $user_agent;
    my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
    my ($v) = `$nginx -v 2>&1` =~ m{nginx/(\S+)}
        or die "cannot tell the version of $nginx";
    $user_agent = 'ngx_signalr_module/' . module_version() . " (nginx/$v)";
    return $user_agent;
}

sub rest_log {
    my ($log) = @_;
    my $out = '';

    for my $line (split /\n/, $log) {
        my ($req, $auth, $type, $ua, $cookie, $body) = split /\|/, $line, 6;

        if (!defined $body) {
            $out .= "malformed log line: $line\n";
            next;
        }

        my ($path) = $req =~ m{^\S+ ([^?]*)};
        $path //= '';

        # a probe (t/010-probes.t tests them): when reloads keep an
        # endpoint offline from an earlier test, one may come in any test
        next if $req =~ m{^HEAD /api/hubs/ngx_signalr_probe/connections/};

        # escape=none writes a missing value as nothing, others as "-"
        for ($type, $ua, $cookie, $body) {
            $_ = '' if $_ eq '-';
        }

        $out .= "$req\n";
        $out .= "  body $body\n" if $body ne '';

        my $want_type = $body ne '' ? 'application/json; charset=utf-8' : '';
        my @extra;
        push @extra, "type=$type" if $type ne $want_type;
        push @extra, "ua=$ua" if $ua ne user_agent();
        push @extra, "cookie=$cookie" if $cookie ne '';
        $out .= "  @extra\n" if @extra;

        if ($auth !~ /^Bearer ([A-Za-z0-9_.-]+)\z/) {
            $out .= "  authorization=$auth\n";
            next;
        }

        my $t = verify_jwt($1);

        # the audience has the call's api-version (2024-12-01 for the
        # operations that version added)
        my ($version) = $req =~ /[?&]api-version=([^&\s]*)/;
        $version //= '';

        if ($t =~ m{^header=\{"alg":"HS256","typ":"JWT"\}
                    \npayload=\{"nameid":"nginx","nbf":NOW,"exp":NOW\+300,
                    "iat":NOW,"aud":"https://([^/"]+)(/[^"?]*)
                    \?api-version=(2022-06-01|2024-12-01)"\}
                    \nsigned=(\w+)\n\z}x
            && $2 eq $path && $3 eq $version)
        {
            $out .= "  token $4 $1\n";

        } else {
            $t =~ s/^/    /mg;
            $out .= "  token:\n$t";
        }
    }

    return $out;
}

# response_body_filters for a framed MessagePack Completion with a string
# result: checks the VarInt length and the [3, {}, id, 3, ...] envelope and
# shows "id=<id> result=<string>".
sub mp_string_completion {
    my ($b) = @_;
    my ($len, $shift, $i) = (0, 0, 0);
    while (1) {
        my $c = ord(substr($b, $i++, 1));
        $len |= ($c & 0x7f) << $shift;
        $shift += 7;
        last unless $c & 0x80;
    }
    return "bad length\n" if $len != length($b) - $i;
    my $m = substr($b, $i);
    return "bad envelope\n" unless $m =~ s/^\x95\x03\x80//;
    my $idlen = ord(substr($m, 0, 1)) & 0x1f;
    my $id = substr($m, 1, $idlen);
    $m = substr($m, 1 + $idlen);
    return "not a result\n" unless $m =~ s/^\x03//;
    my $t = ord(substr($m, 0, 1));
    my $str;
    if (($t & 0xe0) == 0xa0) { $str = substr($m, 1, $t & 0x1f); }
    elsif ($t == 0xd9) { $str = substr($m, 2, ord(substr($m, 1, 1))); }
    elsif ($t == 0xda) { $str = substr($m, 3, unpack('n', substr($m, 1, 2))); }
    else { return sprintf("not a string: %02x\n", $t); }
    return "id=$id result=$str\n";
}

# for the tests that drive nginx themselves (t/008, t/009): a file's text,
# or undef
sub read_file {
    my ($file) = @_;
    open my $f, '<', $file or return undef;
    local $/;
    my $text = <$f>;
    close $f;
    return $text;
}

# a free TCP port on the loopback address (for nginx to listen on)
sub free_port {
    require IO::Socket::INET;
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# one HTTP/1.0 request on a connection of its own to 127.0.0.1:$port:
# (status, the X-Pid header, body); status 0 when nothing answered
sub request {
    my ($port, $method, $uri, $body) = @_;
    require IO::Socket::INET;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 30) or return (0, 0, "$!");
    $body //= '';
    print $s "$method $uri HTTP/1.0\r\nHost: localhost\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n" . $body;
    local $/;
    my $r = <$s> // '';
    close $s;
    my ($status) = $r =~ /^HTTP\/1\.\d (\d+)/;
    my ($pid) = $r =~ /^X-Pid: (\d+)\r$/mi;
    my ($text) = $r =~ /\r\n\r\n(.*)\z/s;
    return ($status // 0, $pid // 0, $text // '');
}

# the workers of the nginx whose master's pid file is given, but those of
# an earlier configuration still finishing their requests; sorted
sub workers {
    my ($pidfile) = @_;
    my $master = read_file($pidfile) // return ();
    chomp $master;
    my @w;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = read_file($stat) // next;
        # pid (comm) state ppid: comm may hold spaces, not ')'
        next unless $s =~ /^(\d+) \(.*\) \S+ $master /s;
        my $pid = $1;
        next if (read_file("/proc/$pid/cmdline") // '') =~ /shutting down/;
        push @w, $pid;
    }
    return sort @w;
}

# make valgrind runs nginx under memcheck (TEST_NGINX_USE_VALGRIND), many
# times slower: a test whose outcome rests on a time of its own (a client
# that gives up after 250 ms) is skipped there and says why, with
#   --- skip_eval
#   <n>: SignalRTest::skip_under_valgrind("TEST 52", "<why>")
# (docs/testing.md lists them); util/valgrind-check shows the line
sub skip_under_valgrind {
    my ($test, $why) = @_;
    return 0 unless $ENV{TEST_NGINX_USE_VALGRIND};
    Test::More::diag("$0 $test skipped under valgrind: $why");
    return 1;
}

# promtool, for "promtool check metrics" of the status page's Prometheus
# text (t/014-status.t): $PROMTOOL, else on PATH, else build/tools/promtool
# (make deps takes it out of Debian's prometheus package); undef when none
sub promtool {
    my @try = ($ENV{PROMTOOL} // (),
               map({ "$_/promtool" } split(/:/, $ENV{PATH} // '')),
               'build/tools/promtool');
    for my $p (@try) {
        return $p if length $p && -f $p && -x $p;
    }
    return undef;
}

# "promtool: ok\n" when promtool check metrics passes a Prometheus text
# (its lint included: it says nothing and exits 0), else its exit status
# and what it said. Without promtool the check is skipped, once said why;
# where CI=true it is a failure: CI installs promtool (make deps)
my $promtool_skip_told;

sub promtool_check {
    my ($text) = @_;
    my $p = promtool();

    if (!defined $p) {
        return "promtool: not found (\$PROMTOOL, PATH, build/tools/promtool;"
            . " make deps installs it)\n" if $ENV{CI};
        Test::More::diag("$0: promtool not found (\$PROMTOOL, PATH,"
                         . " build/tools/promtool; make deps installs it):"
                         . " the Prometheus text is not checked with it")
            unless $promtool_skip_told++;
        return "promtool: ok\n";
    }

    require File::Temp;
    my $tmp = File::Temp->new();
    print $tmp $text;
    close $tmp;
    my $out = `'$p' check metrics < '$tmp' 2>&1`;
    my $rc = $? >> 8;
    return "promtool: ok\n" if $? == 0 && $out eq '';
    return "promtool: exit $rc\n$out";
}

1;
