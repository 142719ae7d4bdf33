# Probes of the endpoints, with two workers: an offline endpoint is probed
# every probe= interval through its rest= location (a HEAD of a connection
# that cannot exist, answered 404 Warning.Connection.NotExisted only for a
# valid token) and is back as soon as one passes, long before its
# offline_time; an online one is checked every check= interval, and a check
# refused with 401 (a wrong key) takes it offline; the workers make one
# probe per interval in all; probes ride on requests (any negotiate, trigger
# or output request), which never wait for them. This test drives nginx
# itself, as t/009 does.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(sleep time);
use IO::Socket::INET;
use SignalRTest;

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $module = $ENV{TEST_NGINX_LOAD_MODULES};

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless $module;
plan skip_all => 'reloads between tests (TEST_NGINX_USE_HUP) only'
    if $ENV{TEST_NGINX_USE_HUP};

my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/$_" for qw(logs tmp html);
chmod 0755, $dir, "$dir/html";

my $port = SignalRTest::free_port();
my $svc_port = SignalRTest::free_port();

my $cs_a = 'Endpoint=https://a.example.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
my $cs_b = 'Endpoint=https://b.example.net;'
    . "AccessKey=$SignalRTest::KEYS{S1};Version=1.0;";

open my $fh, '>', "$dir/nginx.conf" or die $!;
print $fh <<"_EOC_";
load_module $module;
daemon on;
master_process on;
worker_processes 2;
pid $dir/logs/nginx.pid;
error_log $dir/logs/error.log info;
events { worker_connections 64; accept_mutex off; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    proxy_temp_path $dir/tmp;
    log_format svc '\$svc \$request_method \$request_uri';
    signalr_endpoint "$cs_a" name=a rest=/_a/ probe=1s check=2s offline_time=60s;
    signalr_endpoint "$cs_b" name=b rest=/_b/ type=secondary check=off;
    server {
        listen 127.0.0.1:$port;
        root $dir/html;
        location = /neg {
            signalr_negotiate chat;
            add_header X-Pid \$pid;
        }
        location = /out {
            signalr_output chat;
            signalr_rest_retries 0;
        }
        # a: no answer while fail_a exists; else the services below, as
        # docs/output.md has it (proxy_pass with no URI part)
        location /_a/ {
            internal;
            if (-f $dir/html/fail_a) { proxy_pass http://127.0.0.1:1; }
            proxy_pass http://127.0.0.1:$svc_port;
        }
        location /_b/ {
            internal;
            proxy_set_header X-Endpoint b;
            proxy_pass http://127.0.0.1:$svc_port;
        }
    }
    # the services of a and b, told apart by X-Endpoint: a answers 401
    # while key_a exists (a wrong key); a probe's HEAD is answered as the
    # service answers a valid token
    map \$http_x_endpoint \$svc { default a; b b; }
    server {
        listen 127.0.0.1:$svc_port;
        location /api/ {
            access_log $dir/logs/svc.log svc;
            if (\$svc = b) { return 202; }
            if (-f $dir/html/key_a) { return 401; }
            if (\$request_method = HEAD) {
                add_header x-ms-error-code Warning.Connection.NotExisted always;
                return 404;
            }
            return 202;
        }
    }
}
_EOC_
close $fh;

local $ENV{LD_PRELOAD} = $ENV{TEST_NGINX_LD_PRELOAD}
    if $ENV{TEST_NGINX_LD_PRELOAD};

$SIG{TERM} = $SIG{INT} = sub { exit 1 };

END {
    if ($dir) {
        my $pid = SignalRTest::read_file("$dir/logs/nginx.pid");
        kill 'QUIT', $pid if $pid;
    }
}

sub flag {
    my ($name, $on) = @_;
    if ($on) { open my $f, '>', "$dir/html/$name" or die $!; close $f; }
    else { unlink "$dir/html/$name"; }
}

sub request { SignalRTest::request($port, @_) }

# the host a negotiate gives out
sub host {
    my (undef, $pid, $body) = request('POST', '/neg');
    my ($host) = $body =~ m{"url":"https://([^/"]+)/client/};
    return ($host // 'none', $pid);
}

# negotiates for a while, or until the host is $until: the seconds it took
sub negotiate_until {
    my ($until, $max) = @_;
    my $start = time;
    while (time - $start < $max) {
        my ($host) = host();
        return time - $start if $host eq $until;
        sleep 0.05;
    }
    return undef;
}

sub lines {
    my ($file, $re) = @_;
    return scalar grep { /$re/ }
        split /\n/, SignalRTest::read_file("$dir/logs/$file") // '';
}

my $out = `$nginx -p $dir/ -c $dir/nginx.conf 2>&1`;
$? == 0 or BAIL_OUT("nginx did not start: $out");

my @w;
for (1 .. 100) {
    last if (@w = SignalRTest::workers("$dir/logs/nginx.pid")) == 2;
    sleep 0.1;
}
is(scalar @w, 2, 'two workers run') or BAIL_OUT('no workers');

is((host())[0], 'a.example.net', 'a is online: negotiate gives it out');

# a does not answer: offline for every worker, for 60s unless a probe passes

flag('fail_a', 1);
my ($status) = request('POST', '/out', '{"target":"t"}');
is($status, 502, 'an output to a fails');
is((host())[0], 'b.example.net', 'a is offline');

# probes while a still does not answer keep it offline; when it answers,
# the next probe (1s on) brings it back, with requests going on

sleep 1.2;
is((host())[0], 'b.example.net', 'a probe that fails keeps a offline');
flag('fail_a', 0);
my $took = negotiate_until('a.example.net', 5);
ok(defined $took && $took < 2.5,
   'a is back within the probe interval once it answers, long before its '
   . 'offline_time (' . ($took // 'never') . 's)');
is(lines('error.log', qr/\[notice\].*the probe of endpoint "a" passed: it is online again for every worker/),
   1, 'one worker says so, at notice');

# the workers probe once per interval in all: 401 to every probe keeps a
# offline; 3.5s of requests on both workers make at most 4 probes

flag('key_a', 1);
($status) = request('POST', '/out', '{"target":"t"}');
is($status, 502, 'a refuses the token of an output');
is((host())[0], 'b.example.net', 'a is offline again');
my $heads = lines('svc.log', qr/^a HEAD /);
my $start = time;
host() while time - $start < 3.5;
my $probes = lines('svc.log', qr/^a HEAD /) - $heads;
cmp_ok($probes, '>=', 2, "probes were made ($probes)");
cmp_ok($probes, '<=', 4, 'at most one per second across both workers');
is(lines('svc.log', qr{^a HEAD /api/hubs/ngx_signalr_probe/connections/ngx-signalr-probe\?api-version=2022-06-01$}),
   lines('svc.log', qr/^a HEAD /), 'each probe a HEAD of a connection that cannot exist');
cmp_ok(lines('error.log', qr/\[info\].*the probe of endpoint "a" failed with status 401 \(check the AccessKey of its connection string\) \(x-ms-error-code: none\); the endpoint is still offline for every worker/),
       '>=', 2, 'failed probes of an offline endpoint are logged at info');
is((host())[0], 'b.example.net', 'and a stays offline');

# back, then a check of the online endpoint (2s) finds the wrong key alone

flag('key_a', 0);
ok(defined negotiate_until('a.example.net', 3), 'a is back');
flag('key_a', 1);
$took = negotiate_until('b.example.net', 5);
ok(defined $took && $took < 3,
   'a check of the online endpoint takes it offline when its key is '
   . 'refused, with no output failing (' . ($took // 'never') . 's)');
is(lines('error.log', qr/\[error\].*the probe of endpoint "a" failed with status 401 .*marked offline for every worker/),
   1, 'logged once, at error');

is(lines('svc.log', qr/^b HEAD /), 0,
   'b, with check=off and online, is never probed');
cmp_ok(lines('svc.log', qr/^b POST /), '>=', 2, 'b took the outputs');

my @bad = grep { /\[(?:emerg|alert|crit)\]/ }
    split /\n/, SignalRTest::read_file("$dir/logs/error.log") // '';
is(join("\n", @bad), '', 'nothing worse than error in the log');

# A second nginx: c's service accepts connections and never answers, d's
# answers probes 429, e's location closes the connection (444). A probe of c runs until its proxy_read_timeout, and
# no other probe of c starts meanwhile, though checks are due every 300ms;
# the request that started it is answered at once, its connection closed
# rather than kept alive (its next request would wait for the probe); a
# 429 changes nothing.

kill 'QUIT', SignalRTest::read_file("$dir/logs/nginx.pid") =~ /(\d+)/;
for (1 .. 100) { last unless -e "$dir/logs/nginx.pid"; sleep 0.1; }

my $hole = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
                                 LocalPort => 0, ReuseAddr => 1)
    or die "no free port: $!";
my $hole_port = $hole->sockport;
my $child = fork // die "fork: $!";

if ($child == 0) {
    my @held;
    while (my $c = $hole->accept) {
        push @held, $c;
        open my $f, '>>', "$dir/logs/hole.log" or die $!;
        print $f "connection\n";
        close $f;
    }
    exit 0;
}

close $hole;
$port = SignalRTest::free_port();
my $cs_e = 'Endpoint=https://e.example.net;'
    . "AccessKey=$SignalRTest::KEYS{S2};Version=1.0;";

open $fh, '>', "$dir/nginx2.conf" or die $!;
print $fh <<"_EOC_";
load_module $module;
daemon on;
master_process on;
worker_processes 2;
pid $dir/logs/nginx.pid;
error_log $dir/logs/error2.log info;
events { worker_connections 64; accept_mutex off; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    proxy_temp_path $dir/tmp;
    signalr_endpoint "$cs_a" name=c rest=/_c/ check=300ms;
    signalr_endpoint "$cs_b" name=d rest=/_d/ check=300ms;
    signalr_endpoint "$cs_e" name=e rest=/_e/ check=300ms;
    server {
        listen 127.0.0.1:$port;
        location = /neg { signalr_negotiate chat; }
        location /_c/ {
            internal;
            proxy_pass http://127.0.0.1:$hole_port;
            proxy_read_timeout 2s;
        }
        location /_d/ { internal; return 429; }
        location /_e/ { internal; return 444; }
    }
}
_EOC_
close $fh;

$out = `$nginx -p $dir/ -c $dir/nginx2.conf 2>&1`;
$? == 0 or BAIL_OUT("the second nginx did not start: $out");
for (1 .. 100) {
    last if (my @w2 = SignalRTest::workers("$dir/logs/nginx.pid")) == 2;
    sleep 0.1;
}

# the first request plans the checks; 0.4s on, one is due
host();
sleep 0.4;

my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                              Timeout => 10) or die "connect: $!";
my $sent = time;
print $s "POST /neg HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n";
my $head = '';
while ($head !~ /\r\n\r\n/) {
    my $n = sysread($s, $head, 4096, length $head) or last;
}
my $answered = time - $sent;
like($head, qr/^HTTP\/1\.1 200 /, 'the request that starts the probes is answered');
cmp_ok($answered, '<', 1, "at once, while the probe of c hangs ($answered s)");
like($head, qr/^Connection: close\r$/mi,
     'and its connection is not kept alive');
close $s;

$start = time;
host() while time - $start < 1.2;
is(lines('hole.log', qr/connection/), 1,
   'one probe of c under way at a time, though its checks are due every 300ms');

sleep 0.2 while time - $start < 2.5;
host();
sleep 0.3;
cmp_ok(lines('error2.log', qr/\[error\].*the probe of endpoint "c" failed with status 504 \(no response/),
       '==', 1, 'the probe that never got an answer takes c offline');
cmp_ok(lines('error2.log', qr/\[info\].*the probe of endpoint "d" got status 429 \(x-ms-error-code: none\), which tells neither that it works nor that it fails: nothing changes/),
       '>=', 1, 'a probe answered 429 is logged at info');
is(lines('error2.log', qr/endpoint "d" .*offline/), 0, 'and does not take d offline');
is(lines('error2.log', qr/\[error\].*the probe of endpoint "e" failed with status 444 \(no response/),
   1, 'a probe that nginx ended with no answer (444) takes e offline');

kill 'TERM', $child;
waitpid $child, 0;

done_testing();
