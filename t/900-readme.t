# README.md's Quick start, as it is written there: the nginx block under
# "## Quick start" is the site file of Debian's layout (http-level
# directives, no load_module, no http {} or events {}). Only the machine's
# addresses and files are replaced (each must occur exactly once, so a
# changed README fails here instead of going untested): the connection
# string file, the app, the service and the certificates become local
# files and unix sockets. The test's own server reaches the README's TLS
# server and its loopback output server through proxies.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;
use File::Temp qw(tempdir);

our $CID = '0f9c97a2f0bf4706afe87a14e0797b11';
our $SIG1 = 'sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561';

# a self-signed certificate for example.com and contoso.service.signalr.net,
# valid 2000..2099
my $CERT = <<'_EOC_';
-----BEGIN CERTIFICATE-----
MIIBeDCCAR6gAwIBAgIUTvOVexy/kmKFR5DZw7Y4APwc5wwwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLZXhhbXBsZS5jb20wIBcNMDAwMTAxMDAwMDAwWhgPMjA5OTEy
MzEwMDAwMDBaMBYxFDASBgNVBAMMC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAE6vmeZdCHWX8rHfW1n2rABCMVcGC1Viu5yQf1JAcIL813hxSz
4OJddTlQCe2ocXu2ouOi30xsIpusttf7Pyq1OaNIMEYwMwYDVR0RBCwwKoILZXhh
bXBsZS5jb22CG2NvbnRvc28uc2VydmljZS5zaWduYWxyLm5ldDAPBgNVHRMBAf8E
BTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCf0MbYuGXH3Xxvd3DYSLlz1WWLr2Ph
DUoRiBcc0t6e/AIgWESG0kmdjEiBdLlqeS3u62mZOj9OW6f9lO8yiAqIpVc=
-----END CERTIFICATE-----
_EOC_
my $KEY = <<'_EOC_';
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWhxzKJJB1JFalEIZ
PHgTN1UDMCouf9Ytel8XuMpYuVyhRANCAATq+Z5l0IdZfysd9bWfasAEIxVwYLVW
K7nJB/UkBwgvzXeHFLPg4l11OVAJ7ahxe7ai46LfTGwim6y21/s/KrU5
-----END PRIVATE KEY-----
_EOC_

my $dir = tempdir('signalr-readme-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;

sub write_file {
    my ($name, $text) = @_;
    open my $fh, '>', "$dir/$name" or die "$dir/$name: $!";
    print $fh $text;
    close $fh;
}

write_file('cert.pem', $CERT);
write_file('key.pem', $KEY);
write_file('connection-string', 'Endpoint=https://contoso.service.signalr.net;'
    . "AccessKey=$SignalRTest::KEYS{S1};Version=1.0;\n");

my $readme = do {
    open my $fh, '<', 'README.md' or die "README.md: $!";
    local $/;
    <$fh>;
};

$readme =~ /^## Quick start\n.*?^```nginx\n(.*?)^```\n/ms
    or die "README.md: no nginx block under \"## Quick start\"";
my $site = $1;

for my $s (
    ['file:/etc/nginx/signalr-connection-string', "file:$dir/connection-string"],
    ['server 127.0.0.1:3000;', "server unix:\@SOCK\@/app.sock;"],
    ['server contoso.service.signalr.net:443;', "server unix:\@SOCK\@/service.sock;"],
    ['listen 443 ssl;', "listen unix:\@SOCK\@/https.sock ssl;"],
    ['/etc/letsencrypt/live/example.com/fullchain.pem', "$dir/cert.pem"],
    ['/etc/letsencrypt/live/example.com/privkey.pem', "$dir/key.pem"],
    ['listen 127.0.0.1:8081;', "listen unix:\@SOCK\@/output.sock;"],
    ['/etc/ssl/certs/ca-certificates.crt', "$dir/cert.pem"],
) {
    my ($from, $to) = @$s;
    my $n = () = $site =~ /\Q$from\E/g;
    die "README.md's Quick start: \"$from\" occurs $n times, 1 expected" if $n != 1;
    $site =~ s/\Q$from\E/$to/;
}

die "README.md's Quick start has $1" if $site =~ /^\s*(load_module|http\s*\{|events\s*\{)/m;

our $HTTP_CONFIG = $site . <<"_EOC_";

# stands for the web app
server {
    listen unix:\@SOCK\@/app.sock;

    location = /auth {
        if (\$cookie_session != "alice-session") {
            return 401;
        }
        add_header X-User alice;
        return 204;
    }

    location /signalr/ {
        default_type application/json;
        return 200 '{"route":"\$request_method \$uri","user":"\$http_x_asrs_user_id"}';
    }

    location / {
        return 200 "the app's page\\n";
    }
}

# stands for the SignalR Service's REST API
server {
    listen unix:\@SOCK\@/service.sock ssl;
    ssl_certificate $dir/cert.pem;
    ssl_certificate_key $dir/key.pem;

    location / {
        if (\$request_uri != "/api/hubs/chat/:send?api-version=2022-06-01") {
            return 400;
        }
        if (\$http_host != "contoso.service.signalr.net") {
            return 421;
        }
        return 202;
    }
}
_EOC_

our $CONFIG = <<"_EOC_";
    # the README's public server, over TLS, as example.com (a regex:
    # Test::Nginx adds a "location /" of its own)
    location ~ ^/ {
        proxy_pass https://unix:\@SOCK\@/https.sock;
        proxy_set_header Host example.com;
        proxy_ssl_server_name on;
        proxy_ssl_name example.com;
        proxy_ssl_verify on;
        proxy_ssl_trusted_certificate $dir/cert.pem;
    }

    # the README's loopback output server
    location ^~ /output/ {
        proxy_pass http://unix:\@SOCK\@/output.sock:/signalr/;
    }
_EOC_

# the sockets of each block in a directory of their own: a socket file left
# behind by an nginx that failed to start cannot hold up the next block
my $blocks = 0;

add_block_preprocessor(sub {
    my $block = shift;
    my $sock = "$dir/" . ++$blocks;
    mkdir $sock, 0755 or die "$sock: $!";
    for (["http_config", $HTTP_CONFIG], ["config", $CONFIG]) {
        my ($name, $text) = @$_;
        next if defined $block->$name;
        $text =~ s/\@SOCK\@/$sock/g;
        $block->set_value($name, $text);
    }
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: negotiate: the user id is the one the app's /auth answers
--- request
POST /api/negotiate?negotiateVersion=1
--- more_headers
Cookie: session=alice-session
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"asrs.s.uid":"alice","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=S1
--- no_error_log
[error]



=== TEST 2: negotiate: without the app's consent, no token, whatever the client claims
--- request
POST /api/negotiate?negotiateVersion=1
--- more_headers
X-MS-CLIENT-PRINCIPAL-ID: alice
--- error_code: 401
--- response_body_like: 401 Authorization Required



=== TEST 3: trigger: a signed invocation reaches the app, whose answer is the result
--- request eval
qq(POST /runtime/webhooks/signalr\r\n{"type":1,"invocationId":"0","target":"broadcast","arguments":["hi"]})
--- more_headers eval
"X-ASRS-Connection-Id: $::CID\nX-ASRS-Hub: chat\nX-ASRS-Category: messages\n"
. "X-ASRS-Event: broadcast\nX-ASRS-User-Id: alice\nX-ASRS-Signature: $::SIG1\n"
. "Content-Type: application/json\n"
--- response_body eval
qq({"type":3,"invocationId":"0","result":{"route":"POST /signalr/chat/messages/broadcast","user":"alice"}}\x1e)
--- no_error_log
[error]



=== TEST 4: trigger: an unsigned call is refused
--- request eval
qq(POST /runtime/webhooks/signalr\r\n{"type":1,"invocationId":"0","target":"broadcast","arguments":["hi"]})
--- more_headers eval
"X-ASRS-Connection-Id: $::CID\nX-ASRS-Hub: chat\nX-ASRS-Category: messages\n"
. "X-ASRS-Event: broadcast\nContent-Type: application/json\n"
--- error_code: 401



=== TEST 5: the trigger's routes are internal; the rest is the app
--- request eval
["POST /signalr/chat/messages/broadcast", "GET /"]
--- error_code eval
[404, 200]
--- response_body_like eval
["404 Not Found", "^the app's page\$"]



=== TEST 6: output: the app's action becomes a REST call to the service, over verified TLS
--- request
POST /output/chat
{"target":"newMessage","arguments":["hi"]}
--- more_headers
Content-Type: application/json
--- error_code: 202
--- response_body: {"completed":1,"total":1}
--- no_error_log
[error]
