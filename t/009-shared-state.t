# Endpoint state shared by every worker and kept by a reload: a REST call
# that fails in one worker takes the endpoint offline for all of them, so
# that no negotiate, whichever worker answers it, gives it out; exactly one
# worker logs the change at error; the state survives SIGHUP; the endpoint
# is back when its offline time has run out; with every endpoint offline,
# negotiate gives out the primary and says so once a second. Test::Nginx
# cannot reload nginx in the middle of a test or tell its workers apart,
# so this test drives nginx itself, with two workers.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use SignalRTest;

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $module = $ENV{TEST_NGINX_LOAD_MODULES};

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless $module;
plan skip_all => 'reloads between tests (TEST_NGINX_USE_HUP) only'
    if $ENV{TEST_NGINX_USE_HUP};

my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/logs";
mkdir "$dir/tmp";
mkdir "$dir/html";
# workers may run as another user (nobody) when the master is root
chmod 0755, $dir, "$dir/html";

my $port = SignalRTest::free_port();

my $cs_a = 'Endpoint=https://a.example.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
my $cs_b = 'Endpoint=https://b.example.net;'
    . "AccessKey=$SignalRTest::KEYS{S1};Version=1.0;";

sub write_conf {
    my ($offline, $name_a) = @_;
    $name_a //= 'a';
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
    signalr_endpoint "$cs_a" name=$name_a rest=/_a/;
    signalr_endpoint "$cs_b" name=b rest=/_b/ type=secondary;
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
            signalr_endpoint_offline_time $offline;
            add_header X-Pid \$pid always;
        }
        # each fails while its file exists: a with no answer, b with 503
        location /_a/ {
            internal;
            if (!-f $dir/html/fail_a) { return 202; }
            proxy_pass http://127.0.0.1:1;
        }
        location /_b/ {
            internal;
            if (-f $dir/html/fail_b) { return 503; }
            return 202;
        }
    }
}
_EOC_
    close $fh;
}

local $ENV{LD_PRELOAD} = $ENV{TEST_NGINX_LD_PRELOAD}
    if $ENV{TEST_NGINX_LD_PRELOAD};

sub read_file { SignalRTest::read_file(@_) }
sub workers { SignalRTest::workers("$dir/logs/nginx.pid") }

# the seconds in which requests were made
my %seconds;

# one request on a connection of its own: (status, X-Pid, body)
sub request {
    my @r = SignalRTest::request($port, @_);
    $seconds{int(time)}++;
    return @r;
}

# negotiates until both workers have answered (at most 400): the hosts of
# the URLs given out, and the workers that gave them
sub negotiates {
    my (%hosts, %pids);
    for my $i (1 .. 400) {
        my ($status, $pid, $body) = request('POST', '/neg');
        my ($host) = $body =~ m{"url":"https://([^/"]+)/client/};
        $hosts{$status == 200 && $host ? $host : "status $status"}++;
        $pids{$pid}++;
        last if $i >= 20 && keys %pids >= 2;
    }
    return (join(',', sort keys %hosts), scalar keys %pids);
}

sub reload {
    my @old = workers();
    my @w;
    kill 'HUP', read_file("$dir/logs/nginx.pid") =~ /(\d+)/;
    for (1 .. 100) {
        @w = workers();
        last if @w == 2 && !grep { my $o = $_; grep { $_ == $o } @w } @old;
        sleep 0.1;
    }
    return ("@w", "@old");
}

sub log_lines {
    my ($re) = @_;
    return scalar grep { /$re/ } split /\n/, read_file("$dir/logs/error.log")
        // '';
}

# a timeout's SIGTERM too stops nginx (END runs on exit)
$SIG{TERM} = $SIG{INT} = sub { exit 1 };

END {
    if ($dir) {
        my $pid = read_file("$dir/logs/nginx.pid");
        kill 'QUIT', $pid if $pid;
    }
}

sub flag {
    my ($name, $on) = @_;
    if ($on) {
        open my $f, '>', "$dir/html/$name" or die $!;
        close $f;
    } else {
        unlink "$dir/html/$name";
    }
}

write_conf('4s');
flag('fail_a', 1);

my $out = `$nginx -p $dir/ -c $dir/nginx.conf 2>&1`;
$? == 0 or BAIL_OUT("nginx did not start: $out");

my @w;
for (1 .. 100) { last if (@w = workers()) == 2; sleep 0.1; }
is(scalar @w, 2, 'two workers run') or BAIL_OUT('no workers');

my ($hosts, $workers) = negotiates();
is($hosts, 'a.example.net', 'both online: negotiate gives out the primary');
is($workers, 2, 'both workers answered');

# a fails in one worker: offline for both

my ($status) = request('POST', '/out', '{"target":"t"}');
is($status, 502, 'an output to the dead primary fails');
my $failed = time;

($hosts, $workers) = negotiates();
is($hosts, 'b.example.net', 'no worker gives out the primary any more');
is($workers, 2, 'both workers answered');

# ten more outputs, in either worker: they skip a, and b takes them

my %answers;
$answers{(request('POST', '/out', '{"target":"t"}'))[0]}++ for 1 .. 10;
is(join(',', sort keys %answers), '202',
   'no worker sends to a any more: b takes every output');

my $marked = qr/\[error\].*endpoint "a" failed .* marked offline for every worker for 4000ms/;
my $still = qr/\[warn\].*endpoint "a" failed .* still offline for every worker for 4000ms/;
is(log_lines($marked), 1, 'one worker logs that a went offline, at error');
is(log_lines($still), 0, 'a is not tried again while it is offline');

# a reload keeps the state

my ($new, $old) = reload();
isnt($new, $old, 'new workers after the reload');

($hosts, $workers) = negotiates();
is($hosts, 'b.example.net', 'after the reload a is still offline');
is($workers, 2, 'both new workers answered');

# the offline time runs out, 4s after the last failure

sleep 0.2 while time - $failed < 4.5;
($hosts) = negotiates();
is($hosts, 'a.example.net', 'a is back when its offline time has run out');

# every endpoint offline: the primary, and a warning at most once a second

flag('fail_a', 0);
flag('fail_b', 1);
($status) = request('POST', '/out', '{"target":"t"}');
is($status, 502, 'b fails, a does not');
flag('fail_a', 1);
($status) = request('POST', '/out', '{"target":"t"}');
is($status, 502, 'a fails again');

# negotiates for 2.5s, on both workers: the seconds they span are at most
# 4, and each is logged once across the workers (a limit per worker would
# allow twice as many)
my $fallback = qr/\[warn\].*every endpoint is offline: negotiate gives out the primary ones/;
my $start = time;
%seconds = ();
while (time - $start < 2.5) {
    ($hosts) = negotiates();
    last if $hosts ne 'a.example.net';
}

is($hosts, 'a.example.net', 'every endpoint offline: the primary');
cmp_ok(log_lines($fallback), '>=', 2, 'the fallback is logged');
cmp_ok(log_lines($fallback), '<=', scalar keys %seconds,
       'at most once a second, across the workers');

# a renamed endpoint starts online, and keeps online while a worker of the
# previous configuration, still finishing an output request, fails "a":
# "c" is the old "a" under another name, with a state of its own

my $held = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                 Timeout => 30) or die "connect: $!";
my $body = '{"target":"t"}';
print $held "POST /out HTTP/1.0\r\nHost: localhost\r\n"
    . "Content-Type: application/json\r\n"
    . "Content-Length: " . length($body) . "\r\n\r\n";
sleep 0.3;

write_conf('4s', 'c');
($new, $old) = reload();
isnt($new, $old, 'new workers after renaming a to c');

my $stills = log_lines($still);
print $held $body;
{ local $/; <$held>; }
close $held;
is(log_lines($still), $stills + 1, 'the old worker failed "a" meanwhile');

sleep 1.1;
my $before = log_lines($fallback);
($hosts) = negotiates();
is($hosts, 'a.example.net', 'the renamed endpoint is given out');
is(log_lines($fallback), $before, 'and is online: no fallback');

my @bad = grep { /\[(?:emerg|alert|crit)\]/ }
    split /\n/, read_file("$dir/logs/error.log") // '';
is(join("\n", @bad), '', 'nothing worse than error in the log');

done_testing();
