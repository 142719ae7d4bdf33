# signalr_endpoint: connection strings, their sources, and every error.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;

$ENV{SIGNALR_TEST_CS} = 'Endpoint=https://from-env.example.net;'
    . 'AccessKey=' . $SignalRTest::KEYS{A} . ';Version=1.0;';
$ENV{SIGNALR_TEST_EMPTY} = '';
$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a literal connection string
--- http_config
    signalr_endpoint "Endpoint=https://contoso.service.signalr.net;AccessKey=Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM=;Version=1.0;";
--- config
    location = /negotiate { signalr_negotiate chat; }
--- request
POST /negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 2: the emulator's connection string: Port is in the URL, not in aud
--- http_config
    signalr_endpoint "Endpoint=http://localhost;Port=8888;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;";
--- config
    location = /negotiate { signalr_negotiate chat; }
--- request
POST /negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=http://localhost:8888/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"http://localhost/client/?hub=chat"}
signed=EMU
--- no_error_log
[error]



=== TEST 3: ClientEndpoint with a path is the client's base; aud stays on Endpoint
--- http_config
    signalr_endpoint " endpoint = HTTPS://Contoso.Service.SignalR.net/ ; accesskey = Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM= ; ClientEndpoint=https://GW.example.com:8443/signalr/ ; Unknown=ignored ;;";
--- config
    location = /negotiate { signalr_negotiate Chat; }
--- request
GET /negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://gw.example.com:8443/signalr/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 4: env: reads the environment when the configuration loads
--- http_config
    signalr_endpoint env:SIGNALR_TEST_CS;
--- config
    location = /negotiate { signalr_negotiate chat; }
--- request
POST /negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://from-env.example.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://from-env.example.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 5: env: an unset variable fails the configuration
--- http_config
    signalr_endpoint env:SIGNALR_TEST_UNSET;
--- config
--- must_die
--- error_log
"signalr_endpoint": environment variable "SIGNALR_TEST_UNSET" is not set or empty



=== TEST 6: env: an empty variable fails the configuration
--- http_config
    signalr_endpoint env:SIGNALR_TEST_EMPTY;
--- config
--- must_die
--- error_log
"signalr_endpoint": environment variable "SIGNALR_TEST_EMPTY" is not set or empty



=== TEST 7: file: the first line of a file (CRLF, more lines ignored)
--- http_config
    signalr_endpoint file:$TEST_NGINX_HTML_DIR/signalr.cs;
--- config
    location = /negotiate { signalr_negotiate chat; }
--- user_files eval
">>> signalr.cs\nEndpoint=https://from-file.example.net;AccessKey=Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM=;Version=1.0;\r\nsecond line is ignored\n"
--- request
POST /negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://from-file.example.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://from-file.example.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 8: file: a missing file fails the configuration
--- http_config
    signalr_endpoint file:/nonexistent/signalr.cs;
--- config
--- must_die
--- error_log
"signalr_endpoint": open() "/nonexistent/signalr.cs" failed



=== TEST 9: file: an empty first line fails the configuration
--- http_config
    signalr_endpoint file:$TEST_NGINX_HTML_DIR/empty.cs;
--- config
--- user_files eval
">>> empty.cs\n\nEndpoint=https://x;AccessKey=k\n"
--- must_die
--- error_log eval
qr/"signalr_endpoint": the first line of ".*empty.cs" is empty/



=== TEST 10: fewer than two properties
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net";
--- config
--- must_die
--- error_log
invalid connection string in "signalr_endpoint": fewer than two properties: Endpoint and AccessKey (or AuthType) are required



=== TEST 11: Endpoint missing; the key is never shown
--- http_config
    signalr_endpoint "AccessKey=TOPSECRETKEY;Version=1.0";
--- config
--- must_die
--- error_log
invalid connection string in "signalr_endpoint": Endpoint is missing
--- no_error_log
TOPSECRETKEY



=== TEST 12: AccessKey missing
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;Version=1.0";
--- config
--- must_die
--- error_log
invalid connection string in "signalr_endpoint": AccessKey is missing



=== TEST 13: AccessKey empty
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=;Version=1.0";
--- config
--- must_die
--- error_log
invalid connection string in "signalr_endpoint": AccessKey is empty



=== TEST 14: duplicate keys in any casing
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=TOPSECRETKEY;ACCESSKEY=TOPSECRETKEY";
--- config
--- must_die
--- error_log
invalid connection string in "signalr_endpoint": duplicate property "AccessKey"
--- no_error_log
TOPSECRETKEY



=== TEST 15: Endpoint must be an absolute http(s) URL
--- http_config
    signalr_endpoint "Endpoint=ftp://x.example.net;AccessKey=TOPSECRETKEY";
--- config
--- must_die
--- error_log
invalid connection string in "signalr_endpoint": Endpoint "ftp://x.example.net" is not an absolute http or https URL without user, query or fragment
--- no_error_log
TOPSECRETKEY



=== TEST 16: Endpoint with a query is refused
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net/?a;AccessKey=TOPSECRETKEY";
--- config
--- must_die
--- error_log
Endpoint "https://x.example.net/?a" is not an absolute http or https URL



=== TEST 17: a missing ";" does not put the key into the message
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net AccessKey=TOPSECRETKEY;AccessKey=k";
--- config
--- must_die
--- error_log
invalid connection string in "signalr_endpoint": Endpoint "(hidden: it contains "=", is a ";" missing?)" is not an absolute http or https URL
--- no_error_log
TOPSECRETKEY



=== TEST 18: Version must be 1.x
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=TOPSECRETKEY;Version=2.0";
--- config
--- must_die
--- error_log
invalid connection string in "signalr_endpoint": Version "2.0" is not supported, 1.x expected
--- no_error_log
TOPSECRETKEY



=== TEST 19: Port must be 1..65535
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=TOPSECRETKEY;Port=1000000";
--- config
--- must_die
--- error_log
invalid connection string in "signalr_endpoint": Port "1000000" is invalid, 1..65535 expected



=== TEST 20: Port 0
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=TOPSECRETKEY;Port=0";
--- config
--- must_die
--- error_log
Port "0" is invalid, 1..65535 expected



=== TEST 21: ClientEndpoint must be an absolute URL
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=TOPSECRETKEY;ClientEndpoint=gateway";
--- config
--- must_die
--- error_log
ClientEndpoint "gateway" is not an absolute http or https URL



=== TEST 22: ServerEndpoint must be an absolute URL
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=TOPSECRETKEY;ServerEndpoint=https://a b";
--- config
--- must_die
--- error_log
ServerEndpoint "https://a b" is not an absolute http or https URL



=== TEST 23: an AuthType the SDK does not know is refused (the SDK would fall back to DefaultAzureCredential); Entra ID itself: t/011-entra.t
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AuthType=ManagedIdentity;ClientId=abc;Version=1.0" rest=/r entra=/e;
--- config
--- must_die
--- error_log
invalid connection string in "signalr_endpoint": AuthType "ManagedIdentity" is not supported: azure.msi, azure.app, azure or aad expected



=== TEST 24: two endpoints on the same host (two services: one on another port) need names
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k1";
    signalr_endpoint "Endpoint=https://x.example.net;Port=8443;AccessKey=k2" type=secondary;
--- config
--- must_die
--- error_log
duplicate endpoint name "x.example.net" in "signalr_endpoint", give each endpoint its own "name="



=== TEST 25: duplicate names
--- http_config
    signalr_endpoint "Endpoint=https://a.example.net;AccessKey=k1" name=east;
    signalr_endpoint "Endpoint=https://b.example.net;AccessKey=k2" name=east;
--- config
--- must_die
--- error_log
duplicate endpoint name "east" in "signalr_endpoint"



=== TEST 26: unknown parameter
--- http_config
    signalr_endpoint "Endpoint=https://a.example.net;AccessKey=k1" type=tertiary;
--- config
--- must_die
--- error_log
invalid parameter "type=tertiary" in "signalr_endpoint"



=== TEST 27: rest= must be a location prefix
--- http_config
    signalr_endpoint "Endpoint=https://a.example.net;AccessKey=k1" rest=_signalr;
--- config
--- must_die
--- error_log
"rest=" of "signalr_endpoint" must be a location prefix starting with "/"



=== TEST 28: rest=, name= and type= are accepted
--- http_config
    signalr_endpoint "Endpoint=https://a.example.net;AccessKey=k1" name=east type=primary rest=/_signalr/east/;
    signalr_endpoint "Endpoint=https://b.example.net;AccessKey=k2" name=west type=secondary rest=/_signalr/west;
--- config
    location = /t { return 200 "ok\n"; }
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]



=== TEST 29: signalr_endpoint belongs to the http block
--- config
    signalr_endpoint "Endpoint=https://a.example.net;AccessKey=k1";
--- must_die
--- error_log
"signalr_endpoint" directive is not allowed here



=== TEST 30: signalr_negotiate needs an endpoint
--- config
    location = /negotiate { signalr_negotiate chat; }
--- must_die
--- error_log
"signalr_negotiate" needs at least one "signalr_endpoint" in the http block



=== TEST 31: at most 64 endpoints (each has its state in the shared zone)
--- http_config eval
join "\n", map { "signalr_endpoint \"Endpoint=https://e$_.example.net;AccessKey=k$_\";" } 1 .. 65
--- config
    location = /t { return 200 "ok\n"; }
--- must_die
--- error_log
too many "signalr_endpoint": at most 64



=== TEST 32: 64 endpoints load, each with its state
--- http_config eval
join "\n", map { "signalr_endpoint \"Endpoint=https://e$_.example.net;AccessKey=k$_\";" } 1 .. 64
--- config
    location = /negotiate { signalr_negotiate chat; }
--- request
POST /negotiate
--- response_body_like: "url":"https://e\d+\.example\.net/client/\?hub=chat"
--- no_error_log
[error]



=== TEST 33: a second signalr_endpoint for the same service is its second key: its parameters must be left out or the same
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k1" name=x;
    signalr_endpoint "Endpoint=https://X.example.net/;AccessKey=k2" name=y;
--- config
--- must_die
--- error_log
"signalr_endpoint" for the service of endpoint "x" (https://x.example.net/) is its second key, and takes its parameters: leave them out, or give the same



=== TEST 34: a service has two keys: a third signalr_endpoint for it fails the configuration
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k1" name=x rest=/r;
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k2" name=x rest=/r/;
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k3";
--- config
--- must_die
--- error_log
a third "signalr_endpoint" for the service of endpoint "x" (https://x.example.net/): a service has two keys



=== TEST 35: the same service is the URL of its REST calls: ServerEndpoint when given
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;ServerEndpoint=https://internal.example.net;AccessKey=k1" name=x;
    signalr_endpoint "Endpoint=https://y.example.net;ServerEndpoint=https://internal.example.net;AccessKey=k2" type=secondary;
--- config
--- must_die
--- error_log
"signalr_endpoint" for the service of endpoint "x" (https://internal.example.net/) is its second key




=== TEST 36: offline_time=, probe= and check= of signalr_endpoint: times, "off" for probes
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k1" rest=/r offline_time=1s probe=100ms check=off;
    signalr_endpoint "Endpoint=https://y.example.net;AccessKey=k1" rest=/r offline_time=2m probe=off check=1h;
--- config
    location = /negotiate { signalr_negotiate chat; }
--- request
POST /negotiate
--- error_code: 200
--- no_error_log
[error]



=== TEST 37: a probe interval under 100ms fails the configuration
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k1" probe=0;
--- config
--- must_die
--- error_log
invalid "probe=0" in "signalr_endpoint": a time of at least 100ms, or "off"



=== TEST 38: check= must be a time
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k1" check=often;
--- config
--- must_die
--- error_log
invalid "check=often" in "signalr_endpoint": a time of at least 100ms, or "off"



=== TEST 39: offline_time= is at least 1s, and cannot be off
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k1" offline_time=off;
--- config
--- must_die
--- error_log
invalid "offline_time=off" in "signalr_endpoint": a time of at least 1s



=== TEST 40: the second key of a service takes the times of its first line too
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k1" probe=2s;
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k2" probe=3s;
--- config
--- must_die
--- error_log
"signalr_endpoint" for the service of endpoint "x.example.net" (https://x.example.net/) is its second key, and takes its parameters: leave them out, or give the same



=== TEST 41: the second key of the 64th endpoint is no 65th endpoint; a second line may give one time when the first gives another
--- http_config eval
(join "\n", map { "signalr_endpoint \"Endpoint=https://e$_.example.net;AccessKey=k$_\" offline_time=10s;" } 1 .. 64)
. "\nsignalr_endpoint \"Endpoint=https://e64.example.net;AccessKey=second\" probe=5s;"
--- config
    location = /negotiate { signalr_negotiate chat; }
--- request
POST /negotiate
--- response_body_like: "url":"https://e\d+\.example\.net/client/\?hub=chat"
--- no_error_log
[error]



=== TEST 42: the second key of a service cannot give it another ClientEndpoint
--- http_config
    signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k1";
    signalr_endpoint "Endpoint=https://x.example.net;ClientEndpoint=https://gw.example.net;AccessKey=k2";
--- config
--- must_die
--- error_log
"signalr_endpoint" for the service of endpoint "x.example.net" (https://x.example.net/) is its second key, but gives it another Endpoint or ClientEndpoint
