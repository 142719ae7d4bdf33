# Each REST call of an output request hands back its large buffers once it
# is read (ngx_http_signalr_capture_release): 1000 actions to two endpoints,
# each answer filling much of a 64 KB proxy_buffer_size buffer and a 16 KB
# kept body, must not hold 2000 of each. Measured as the worker's peak
# resident memory (VmHWM), which only touched pages count in; so the fake
# service answers 40 KB. Test::Nginx cannot read a worker's memory, so this
# test drives nginx itself.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use SignalRTest;

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $module = $ENV{TEST_NGINX_LOAD_MODULES};

plan skip_all => 'TEST_NGINX_LOAD_MODULES names no module' unless $module;
plan skip_all => 'reloads between tests (TEST_NGINX_USE_HUP) only'
    if $ENV{TEST_NGINX_USE_HUP};
plan skip_all => 'no /proc/<pid>/status here' unless -r "/proc/$$/status";

# AddressSanitizer keeps freed memory in quarantine: nothing to measure
my $asan = ($ENV{TEST_NGINX_LD_PRELOAD} // '') =~ /asan/
    || `ldd $nginx 2>/dev/null` =~ /libasan/;
plan skip_all => 'AddressSanitizer holds freed memory (quarantine)' if $asan;

my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/logs";
mkdir "$dir/tmp";
# workers may run as another user (nobody) when the master is root
chmod 0755, $dir;

my $port = SignalRTest::free_port();

# the fake service's answer: 40 KB, read with its header into the 64 KB
# buffer, of which the module keeps the first 16 KB
open my $big, '>', "$dir/answer.json" or die $!;
print $big '"' . ('x' x 40000) . '"';
close $big;

my $cs_a = 'Endpoint=https://contoso.service.signalr.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
my $cs_b = 'Endpoint=https://a.example.net;'
    . "AccessKey=$SignalRTest::KEYS{S1};Version=1.0;";

open my $fh, '>', "$dir/nginx.conf" or die $!;
print $fh <<"_EOC_";
load_module $module;
daemon on;
master_process on;
worker_processes 1;
pid $dir/logs/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    proxy_temp_path $dir/tmp;
    signalr_endpoint "$cs_a" rest=/rest/;
    signalr_endpoint "$cs_b" rest=/rest/ type=secondary name=b;
    server {
        listen 127.0.0.1:$port;
        location = /out {
            signalr_output chat;
            signalr_output_max_actions 1000;
            client_max_body_size 1m;
            client_body_buffer_size 1m;
        }
        location /rest/ {
            internal;
            proxy_buffer_size 64k;
            proxy_buffers 8 16k;
            proxy_busy_buffers_size 64k;
            proxy_method GET;
            proxy_pass http://127.0.0.1:$port/service/;
        }
        location /service/ {
            alias $dir/;
            try_files /answer.json =404;
        }
    }
}
_EOC_
close $fh;

local $ENV{LD_PRELOAD} = $ENV{TEST_NGINX_LD_PRELOAD}
    if $ENV{TEST_NGINX_LD_PRELOAD};

sub read_file { SignalRTest::read_file(@_) }
sub worker { (SignalRTest::workers("$dir/logs/nginx.pid"))[0] }

sub hwm_kb {
    my ($pid) = @_;
    my $s = read_file("/proc/$pid/status") // return undef;
    return $s =~ /^VmHWM:\s+(\d+) kB/m ? $1 : undef;
}

sub post {
    my ($body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 120) or return "connect: $!";
    print $s "POST /out HTTP/1.0\r\nHost: localhost\r\n"
        . "Content-Type: application/json\r\n"
        . "Content-Length: " . length($body) . "\r\n\r\n" . $body;
    local $/;
    my $r = <$s> // '';
    close $s;
    return $r;
}

END {
    if ($dir) {
        my $pid = read_file("$dir/logs/nginx.pid");
        kill 'QUIT', $pid if $pid;
    }
}

my $out = `$nginx -p $dir/ -c $dir/nginx.conf 2>&1`;
$? == 0 or BAIL_OUT("nginx did not start: $out");

my $pid;
for (1 .. 100) { last if $pid = worker(); sleep 0.1; }
ok($pid, 'the worker runs') or BAIL_OUT('no worker');

# one small request first: the worker's own start-up memory is measured
like(post('{"target":"t","arguments":[]}'), qr/^HTTP\/1\.1 202 /,
     'one action is sent');
my $before = hwm_kb($pid);

my $actions = '[' . join(',', map {
    qq({"target":"t","arguments":[$_],"groupName":"g$_"}) } 1 .. 1000) . ']';
my $answer = post($actions);
like($answer, qr/^HTTP\/1\.1 202 /, '1000 actions to two endpoints: 202');
like($answer, qr/\{"completed":1000,"total":1000,"endpoints":\[\{"name":"[^"]+","completed":1000\},\{"name":"[^"]+","completed":1000\}\]\}$/,
     'every call answered by both endpoints');

my $growth = (hwm_kb($pid) - $before) / 1024;
# 2000 calls that kept their buffers would hold 150 MB and more
cmp_ok($growth, '<', 64,
       sprintf('the peak memory grew by %.1f MB, less than 64 MB', $growth));

my @bad = grep { /\[(?:emerg|alert|crit|error)\]/ }
    split /\n/, read_file("$dir/logs/error.log") // '';
is(join("\n", @bad), '', 'no error in the log');

done_testing();
