# A binary upgrade (USR2) with an "env:" connection string: the new binary
# gets only the variables nginx keeps, so the module has to keep its own.
# Test::Nginx cannot send USR2, so this test drives nginx itself.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(sleep);
use SignalRTest;

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $module = $ENV{TEST_NGINX_LOAD_MODULES};

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless $module;
plan skip_all => 'reloads between tests (TEST_NGINX_USE_HUP) only'
    if $ENV{TEST_NGINX_USE_HUP};

my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/logs";

my $port = SignalRTest::free_port();

my $preload = $ENV{TEST_NGINX_LD_PRELOAD} ? "env LD_PRELOAD;\n" : '';

open my $fh, '>', "$dir/nginx.conf" or die $!;
print $fh <<"_EOC_";
load_module $module;
$preload
daemon on;
master_process on;
worker_processes 1;
pid $dir/logs/nginx.pid;
error_log $dir/logs/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    signalr_endpoint env:SIGNALR_TEST_UPGRADE_CS;
    server {
        listen 127.0.0.1:$port;
        location = /negotiate { signalr_negotiate chat; }
    }
}
_EOC_
close $fh;

$ENV{SIGNALR_TEST_UPGRADE_CS} = 'Endpoint=https://upgrade.example.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
local $ENV{LD_PRELOAD} = $ENV{TEST_NGINX_LD_PRELOAD}
    if $ENV{TEST_NGINX_LD_PRELOAD};

sub read_pid {
    my ($file) = @_;
    open my $p, '<', $file or return undef;
    my $pid = <$p>;
    close $p;
    chomp $pid if defined $pid;
    return $pid;
}

sub wait_for {
    my ($cond) = @_;
    for (1 .. 100) {
        return 1 if $cond->();
        sleep 0.1;
    }
    return 0;
}

sub negotiate {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 5) or return "connect: $!";
    print $s "POST /negotiate HTTP/1.0\r\nHost: localhost\r\n"
        . "Content-Length: 0\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    close $s;
    return $r;
}

sub stop {
    for my $f ("$dir/logs/nginx.pid", "$dir/logs/nginx.pid.oldbin") {
        my $pid = read_pid($f);
        kill 'QUIT', $pid if $pid;
    }
}

END { stop() if $dir }

system($nginx, '-p', "$dir/", '-c', "$dir/nginx.conf") == 0
    or BAIL_OUT("nginx did not start: " . `cat $dir/logs/error.log`);

ok(wait_for(sub { read_pid("$dir/logs/nginx.pid") }), 'the old master runs');
my $old = read_pid("$dir/logs/nginx.pid");
like(negotiate(), qr{"url":"https://upgrade\.example\.net/client/\?hub=chat"},
     'the old binary answers');

# the upgrade: nginx starts the new binary with the variables it keeps
kill 'USR2', $old;

ok(wait_for(sub {
       my $new = read_pid("$dir/logs/nginx.pid");
       return -e "$dir/logs/nginx.pid.oldbin" && $new && $new ne $old;
   }), 'the new binary started')
    or diag(`cat $dir/logs/error.log`);

my $new = read_pid("$dir/logs/nginx.pid");

# the old master leaves; the new one answers alone
kill 'QUIT', $old;
ok(wait_for(sub { !kill 0, $old }), 'the old master left');

my $answer = negotiate();
like($answer, qr{^HTTP/1\.1 200 }, 'the new binary answers 200');
like($answer, qr{"url":"https://upgrade\.example\.net/client/\?hub=chat"},
     'with the endpoint of the env: connection string');
ok($new && kill(0, $new), 'the new master runs');

open my $log, '<', "$dir/logs/error.log" or die $!;
my @bad = grep { /\[(?:emerg|alert|crit|error)\]/ } <$log>;
close $log;
is(join('', @bad), '', 'no error in the log');

done_testing();
