# signalr_negotiate, signalr_user_id, signalr_claim, signalr_token_lifetime
# and the $signalr_access_token / $signalr_client_url variables.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;

our $CS_A = 'Endpoint=https://contoso.service.signalr.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";

add_block_preprocessor(sub {
    my $block = shift;
    if (!defined $block->http_config) {
        $block->set_value("http_config", "signalr_endpoint \"$CS_A\";");
    }
});

# a closure for the random-choice test: counts which endpoints answered
my %seen;
my $count = 0;
sub pick {
    my ($body) = @_;
    $body =~ m{^https?://([^/]+)/} or return "bad url $body";
    $seen{$1}++;
    return ++$count < 64 ? "ok\n" : join(",", sort keys %seen) . "\n";
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a user id (the client-user vector: same claims, same signature key)
--- config
    location = /api/negotiate {
        signalr_negotiate Chat;
        signalr_user_id $arg_user;
    }
--- request
POST /api/negotiate?user=alice&negotiateVersion=1
--- response_headers
Content-Type: application/json
Cache-Control: no-store
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"asrs.s.uid":"alice","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 2: an empty user id gives an anonymous token
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_user_id $arg_user;
    }
--- request
POST /api/negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 3: the App Service principal header, user id inherited from server
--- config
    signalr_user_id $http_x_ms_client_principal_id;
    location = /api/negotiate { signalr_negotiate chat; }
--- request
POST /api/negotiate
--- more_headers
X-MS-CLIENT-PRINCIPAL-ID: 6d0fa36c-cc5c-4b2e-8a8d-6c1b2f3a4d5e
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"asrs.s.uid":"6d0fa36c-cc5c-4b2e-8a8d-6c1b2f3a4d5e","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 4: custom claims (the client-custom-claims vector)
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_user_id bob;
        signalr_claim role admin;
        signalr_claim role $arg_role;
        signalr_claim exp 1800000000;
        signalr_claim dept $arg_dept;
    }
--- request
POST /api/negotiate?role=ops
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"asrs.s.uid":"bob","role":["admin","ops"],"asrs.u.exp":"1800000000","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 5: empty claim values are omitted; one value left is a string
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_claim role admin;
        signalr_claim role $arg_role;
        signalr_claim dept $arg_dept;
    }
--- request
POST /api/negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"role":"admin","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 6: reserved names are renamed; the first sub is kept, later ones renamed
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_claim sub first;
        signalr_claim aud mine;
        signalr_claim sub second;
        signalr_claim nbf 1;
        signalr_claim iss me;
        signalr_claim jti j;
        signalr_claim asrs.u.x y;
        signalr_claim nameid n;
    }
--- request
GET /api/negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"sub":"first","asrs.u.aud":"mine","asrs.u.sub":"second","asrs.u.nbf":"1","asrs.u.iss":"me","asrs.u.jti":"j","asrs.u.x":"y","nameid":"n","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 7: claims are inherited as a whole, and replaced as a whole
--- config
    signalr_claim role fromserver;
    location = /inherit { signalr_negotiate chat; }
    location = /replace { signalr_negotiate chat; signalr_claim team here; }
--- request eval
["GET /inherit", "GET /replace"]
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body eval
["url=https://contoso.service.signalr.net/client/?hub=chat
header={\"alg\":\"HS256\",\"typ\":\"JWT\"}
payload={\"role\":\"fromserver\",\"nbf\":NOW,\"exp\":NOW+3600,\"iat\":NOW,\"aud\":\"https://contoso.service.signalr.net/client/?hub=chat\"}
signed=A
",
"url=https://contoso.service.signalr.net/client/?hub=chat
header={\"alg\":\"HS256\",\"typ\":\"JWT\"}
payload={\"team\":\"here\",\"nbf\":NOW,\"exp\":NOW+3600,\"iat\":NOW,\"aud\":\"https://contoso.service.signalr.net/client/?hub=chat\"}
signed=A
"]
--- no_error_log
[error]



=== TEST 8: asrs.s.* claims are refused (any casing)
--- config
    location = /api/negotiate { signalr_negotiate chat; signalr_claim ASRS.S.uid mallory; }
--- must_die
--- error_log
claim "ASRS.S.uid" is refused: "asrs.s.*" claims are reserved for the service (use "signalr_user_id" for the user id)



=== TEST 9: JSON escaping of quotes, backslashes, control characters; raw / and UTF-8
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_user_id $http_x_user;
        signalr_claim note "tab\there\nnewline";
    }
--- request
POST /api/negotiate
--- more_headers
X-User: a"b\c/d é 😀
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"asrs.s.uid":"a\"b\\c/d é 😀","note":"tab\there\nnewline","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 10: a user id that is not UTF-8 is refused with 400
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_user_id $http_x_user;
    }
--- request
POST /api/negotiate
--- more_headers eval
"X-User: caf\xe9\r\n"
--- error_code: 400
--- response_body chomp
{"error":"the user id is not valid UTF-8"}
--- error_log
signalr: the user id is not valid UTF-8
--- no_error_log
[error]
eyJhbGciOi



=== TEST 11: a claim value that is not UTF-8 is refused with 400
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_claim name $http_x_name;
    }
--- request
POST /api/negotiate
--- more_headers eval
"X-Name: \xff\xfe\r\n"
--- error_code: 400
--- response_body chomp
{"error":"a claim value is not valid UTF-8"}
--- no_error_log
[error]



=== TEST 12: signalr_token_lifetime
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_token_lifetime 30m;
    }
--- request
POST /api/negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"nbf":NOW,"exp":NOW+1800,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 13: signalr_token_lifetime must be positive
--- config
    location = /api/negotiate { signalr_negotiate chat; signalr_token_lifetime 0; }
--- must_die
--- error_log
"signalr_token_lifetime" directive must be at least 1s



=== TEST 14: a hub from a variable is lower-cased
--- config
    location ~ ^/hubs/(?<hub>[^/]+)/negotiate$ { signalr_negotiate $hub; }
--- request
POST /hubs/Chat_Room.v2[1],`x`/negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat_room.v2[1],`x`
header={"alg":"HS256","typ":"JWT"}
payload={"nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat_room.v2[1],`x`"}
signed=A
--- no_error_log
[error]



=== TEST 15: an invalid hub from a variable: 400, no token
--- config
    location = /api/negotiate { signalr_negotiate $arg_hub; }
--- request eval
["POST /api/negotiate?hub=1chat", "POST /api/negotiate?hub=chat%20room", "POST /api/negotiate", "POST /api/negotiate?hub=" . ("a" x 129)]
--- error_code eval
[400, 400, 400, 400]
--- response_body eval
['{"error":"invalid hub name"}', '{"error":"invalid hub name"}', '{"error":"invalid hub name"}', '{"error":"invalid hub name"}']
--- no_error_log
[error]



=== TEST 16: an invalid literal hub fails the configuration
--- config
    location = /api/negotiate { signalr_negotiate chat-room; }
--- must_die
--- error_log
invalid hub name "chat-room": a letter, then up to 127 letters, digits or _`,.[]



=== TEST 17: signalr_negotiate is not duplicated
--- config
    location = /api/negotiate { signalr_negotiate a; signalr_negotiate b; }
--- must_die
--- error_log
"signalr_negotiate" directive is duplicate



=== TEST 18: GET and POST with a body both answer 200
--- config
    location = /api/negotiate { signalr_negotiate chat; }
--- request eval
["GET /api/negotiate", "POST /api/negotiate\r\n{\"ignored\":true}"]
--- error_code eval
[200, 200]
--- response_body_like eval
['^\{"url":"https://contoso.service.signalr.net/client/\?hub=chat","accessToken":"eyJ[A-Za-z0-9_.-]+"\}$', '^\{"url":"https://contoso.service.signalr.net/client/\?hub=chat","accessToken":"eyJ[A-Za-z0-9_.-]+"\}$']
--- no_error_log
[error]



=== TEST 19: other methods: 405 with Allow
--- config
    location = /api/negotiate { signalr_negotiate chat; }
--- request eval
["PUT /api/negotiate\r\nx", "DELETE /api/negotiate", "PATCH /api/negotiate"]
--- error_code eval
[405, 405, 405]
--- response_headers eval
[("Allow: GET, POST, OPTIONS\nContent-Type: application/json") x 3]
--- response_body eval
['{"error":"negotiate takes GET or POST"}', '{"error":"negotiate takes GET or POST"}', '{"error":"negotiate takes GET or POST"}']
--- no_error_log
[error]



=== TEST 20: CORS with credentials through add_header: preflight and request
--- http_config eval
"signalr_endpoint \"$::CS_A\";
    map \$http_origin \$cors_origin {
        default                      \"\";
        https://app.example.com      \$http_origin;
    }"
--- config
    location = /api/negotiate {
        add_header Access-Control-Allow-Origin $cors_origin;
        add_header Access-Control-Allow-Credentials true;
        add_header Access-Control-Allow-Methods "POST, GET, OPTIONS";
        add_header Access-Control-Allow-Headers "authorization, x-requested-with, x-signalr-user-agent";
        add_header Vary Origin;
        signalr_negotiate chat;
    }
--- request eval
["OPTIONS /api/negotiate", "POST /api/negotiate"]
--- more_headers
Origin: https://app.example.com
Access-Control-Request-Method: POST
--- error_code eval
[204, 200]
--- response_headers eval
[("Access-Control-Allow-Origin: https://app.example.com\nAccess-Control-Allow-Credentials: true\nVary: Origin") x 2]
--- no_error_log
[error]



=== TEST 21: variables for a location that builds its own response
--- config
    location = /custom {
        signalr_negotiate chat;
        signalr_user_id carol;
        return 200 '{"url":"$signalr_client_url","accessToken":"$signalr_access_token"}';
    }
    location = /none { return 200 "[$signalr_client_url][$signalr_access_token]\n"; }
--- request eval
["GET /custom", "GET /none"]
--- response_body_filters eval
[[\&SignalRTest::negotiate], [sub { $_[0] }]]
--- response_body eval
["url=https://contoso.service.signalr.net/client/?hub=chat
header={\"alg\":\"HS256\",\"typ\":\"JWT\"}
payload={\"asrs.s.uid\":\"carol\",\"nbf\":NOW,\"exp\":NOW+3600,\"iat\":NOW,\"aud\":\"https://contoso.service.signalr.net/client/?hub=chat\"}
signed=A
", "[][]\n"]
--- no_error_log
[error]



=== TEST 22: a user id from the request that makes the token longer than 4096 characters: 400 naming it, logged at info (the client's doing; TEST 37 has the configuration's)
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_user_id $arg_user;
    }
--- request eval
"POST /api/negotiate?user=" . ("u" x 3000)
--- error_code: 400
--- response_body chomp
{"error":"the user id is too long for an access token"}
--- error_log eval
qr/\[info\].*signalr: negotiate refused: the user id is too long for an access token/
--- no_error_log
[error]
eyJhbGciOi



=== TEST 23: primary preferred over secondary
--- http_config eval
"signalr_endpoint \"Endpoint=https://secondary.example.net;AccessKey=$SignalRTest::KEYS{B}\" type=secondary;
    signalr_endpoint \"$::CS_A\" type=primary;"
--- config
    location = /u { signalr_negotiate chat; return 200 "$signalr_client_url\n"; }
--- request eval
[("GET /u") x 20]
--- response_body eval
[("https://contoso.service.signalr.net/client/?hub=chat\n") x 20]
--- no_error_log
[error]



=== TEST 24: several primaries: each is chosen (64 requests)
--- http_config eval
"signalr_endpoint \"Endpoint=https://east.example.net;AccessKey=$SignalRTest::KEYS{A}\";
    signalr_endpoint \"Endpoint=https://west.example.net;AccessKey=$SignalRTest::KEYS{B}\";
    signalr_endpoint \"Endpoint=https://backup.example.net;AccessKey=$SignalRTest::KEYS{B}\" type=secondary;"
--- config
    location = /u { signalr_negotiate chat; return 200 "$signalr_client_url"; }
--- request eval
[("GET /u") x 64]
--- response_body_filters eval
\&main::pick
--- response_body eval
[("ok\n") x 63, "east.example.net,west.example.net\n"]
--- no_error_log
[error]



=== TEST 25: each endpoint signs with its own key
--- http_config eval
"signalr_endpoint \"Endpoint=https://only-secondary.example.net;AccessKey=$SignalRTest::KEYS{B}\" type=secondary;"
--- config
    location = /api/negotiate { signalr_negotiate chat; }
--- request
POST /api/negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://only-secondary.example.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://only-secondary.example.net/client/?hub=chat"}
signed=B
--- no_error_log
[error]



=== TEST 26: nothing above debug level shows the key or a token
--- config
    location = /api/negotiate {
        signalr_negotiate $arg_hub;
        signalr_user_id $arg_user;
    }
--- request eval
["POST /api/negotiate?hub=chat&user=dave", "POST /api/negotiate?hub=-bad", "POST /api/negotiate?hub=chat&user=" . ("u" x 3000)]
--- error_code eval
[200, 400, 400]
--- no_error_log eval
[qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*(?:Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM|eyJhbGciOi)/, qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*(?:Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM|eyJhbGciOi)/, qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*(?:Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM|eyJhbGciOi)/]



=== TEST 27: the token is made once a request: a variable read after the answer gives the answer's token, though the user id's value ($status, "000" in the handler) has changed since
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_user_id $status;
        add_header X-Token $signalr_access_token;
    }
--- request
POST /api/negotiate
--- response_headers_like
X-Token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.eyJhc3JzLnMudWlkIjoiMDAwIi[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"asrs.s.uid":"000","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 28: a request rewritten into another negotiate location gets that location's token, though a variable made one before
--- config
    location = /a {
        signalr_negotiate hubA;
        set $t $signalr_access_token;
        rewrite ^ /b last;
    }
    location = /b {
        signalr_negotiate hubB;
    }
--- request
POST /a
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=hubb
header={"alg":"HS256","typ":"JWT"}
payload={"nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=hubb"}
signed=A
--- no_error_log
[error]



=== TEST 29: a token that only its escapes take over 4096 characters: refused after it is made; a claim of the request is named (400; TEST 38 has the configuration's)
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_claim quote $http_x_quote;
    }
--- request
POST /api/negotiate
--- more_headers eval
"X-Quote: " . ('"' x 1500) . "\n"
--- error_code: 400
--- response_body chomp
{"error":"the claim \"quote\" is too long for an access token"}
--- error_log eval
qr/\[info\].*signalr: negotiate refused: the claim "quote" is too long for an access token/
--- no_error_log
[error]
eyJhbGciOi



=== TEST 30: $signalr_endpoint: the endpoint negotiate gave out
--- http_config eval
"signalr_endpoint \"Endpoint=https://secondary.example.net;AccessKey=$SignalRTest::KEYS{B}\" type=secondary name=second;
    signalr_endpoint \"$::CS_A\" name=first;"
--- config
    location = /u { signalr_negotiate chat; return 200 "$signalr_endpoint $signalr_client_url\n"; }
    location = /none { return 200 "[$signalr_endpoint]\n"; }
--- request eval
["GET /u", "GET /none"]
--- response_body eval
["first https://contoso.service.signalr.net/client/?hub=chat\n", "[]\n"]
--- no_error_log
[error]



=== TEST 31: $signalr_endpoint in an access log: only for an answer with a token (no token is made for a preflight or a refused method)
--- http_config eval
"signalr_endpoint \"$::CS_A\" name=first;
    log_format ep '\$request_method \$status ep=\$signalr_endpoint';"
--- config
    location = /neg {
        signalr_negotiate chat;
        access_log logs/ep.log ep;
    }
    location = /ep.log { alias logs/ep.log; }
--- request eval
["OPTIONS /neg", "PUT /neg", "POST /neg", "GET /ep.log"]
--- error_code eval
[204, 405, 200, 200]
--- response_body_filters eval
[[sub { "" }], [sub { "" }], [sub { "" }], [sub { $_[0] }]]
--- response_body eval
["", "", "", "OPTIONS 204 ep=-\nPUT 405 ep=-\nPOST 200 ep=first\n"]
--- no_error_log
[error]



=== TEST 32: signalr_negotiate_endpoint: the endpoint a variable names (a map on a header), the usual choice when it is empty
--- http_config eval
"signalr_endpoint \"Endpoint=https://secondary.example.net;AccessKey=$SignalRTest::KEYS{B}\" type=secondary name=second;
    signalr_endpoint \"$::CS_A\" name=first;
    map \$http_x_region \$signalr_ep { default \$http_x_region; eu second; }"
--- config
    signalr_negotiate_endpoint $signalr_ep;
    location = /u { signalr_negotiate chat; return 200 "$signalr_endpoint $signalr_client_url\n"; }
--- request eval
["GET /u", "GET /u", "GET /u"]
--- more_headers eval
["", "X-Region: eu", "X-Region: first"]
--- response_body eval
["first https://contoso.service.signalr.net/client/?hub=chat\n",
 "second https://secondary.example.net/client/?hub=chat\n",
 "first https://contoso.service.signalr.net/client/?hub=chat\n"]
--- no_error_log
[error]



=== TEST 33: signalr_negotiate_endpoint: a value that names no endpoint is refused, and logged escaped at info
--- http_config eval
"signalr_endpoint \"$::CS_A\" name=first;"
--- config
    signalr_negotiate_endpoint $http_x_region;
    location = /neg { signalr_negotiate chat; }
--- request
POST /neg
--- more_headers
X-Region: the "moon"
--- error_code: 400
--- response_body chomp
{"error":"signalr_negotiate_endpoint names no endpoint"}
--- error_log
[info]
signalr: negotiate refused: "signalr_negotiate_endpoint" is "the%20%22moon%22", which names no endpoint
--- no_error_log
[error]



=== TEST 34: signalr_negotiate_endpoint: an endpoint offline for every worker is not given out; the usual choice instead
--- http_config eval
"signalr_endpoint \"Endpoint=https://secondary.example.net;AccessKey=$SignalRTest::KEYS{B}\" name=dead33 rest=/_dead;
    signalr_endpoint \"$::CS_A\" name=live33 rest=/_live;"
--- config
    signalr_negotiate_endpoint dead33;
    signalr_rest_retries 0;
    location = /u { signalr_negotiate chat; return 200 "$signalr_endpoint\n"; }
    location = /out { signalr_output chat; }
    location /_dead/ { internal; proxy_pass http://127.0.0.1:1; }
    location /_live/ { internal; return 202; }
--- request eval
["GET /u", "POST /out\r\n{\"target\":\"t\"}", "GET /u", "GET /u"]
--- error_code eval
[200, 502, 200, 200]
--- response_body_filters eval
[[sub { $_[0] }], [sub { "" }], [sub { $_[0] }], [sub { $_[0] }]]
--- response_body eval
["dead33\n", "", "live33\n", "live33\n"]



=== TEST 35: signalr_negotiate_endpoint with a literal name that is no endpoint fails the configuration
--- config
    location = /u { signalr_negotiate chat; signalr_negotiate_endpoint elsewhere; }
--- must_die
--- error_log
"signalr_negotiate_endpoint" names no "signalr_endpoint": "elsewhere"



=== TEST 36: signalr_negotiate_endpoint is not duplicated
--- config
    location = /u { signalr_negotiate chat; signalr_negotiate_endpoint a; signalr_negotiate_endpoint b; }
--- must_die
--- error_log
"signalr_negotiate_endpoint" directive is duplicate



=== TEST 37: a token that the configuration alone makes longer than 4096 characters: 500 and a log line saying why (the request's short user id is not blamed)
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_user_id $arg_user;
        signalr_claim note "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn";
    }
--- request
POST /api/negotiate?user=bob
--- error_code: 500
--- response_body chomp
{"error":"the access token could not be created"}
--- error_log eval
qr/\[error\].*signalr: the access token for hub "chat" would be at least \d+ characters long, but the service takes at most 4096: shorten the user id or the claims/
--- no_error_log
eyJhbGciOi



=== TEST 38: a token that only the escapes of a claim of the configuration take over 4096 characters: refused after it is made, with its length (500)
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_claim quote '""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""""';
    }
--- request
POST /api/negotiate
--- error_code: 500
--- response_body chomp
{"error":"the access token could not be created"}
--- error_log eval
qr/\[error\].*signalr: the access token for hub "chat" would be at least 4247 characters long, but the service takes at most 4096/
--- no_error_log
eyJhbGciOi




=== TEST 39: signalr_negotiate_detailed_errors on, signalr_negotiate_diagnostic_client on: the SDK's claims and values ("True" is bool.ToString()), in its order, after the user id and before the custom claims
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_user_id alice;
        signalr_claim role admin;
        signalr_negotiate_detailed_errors on;
        signalr_negotiate_diagnostic_client on;
    }
--- request
POST /api/negotiate
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"asrs.s.uid":"alice","asrs.s.dc":"true","asrs.s.derror":"True","role":"admin","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 40: the switches from variables, decided for each request: on, true, 1 (any case) give the claim; off, false, 0 and empty do not
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_negotiate_detailed_errors $arg_derror;
        signalr_negotiate_diagnostic_client $arg_dc;
    }
--- request eval
["POST /api/negotiate?derror=on&dc=on",
 "POST /api/negotiate?derror=TRUE",
 "POST /api/negotiate?dc=1",
 "POST /api/negotiate?derror=True&dc=On",
 "POST /api/negotiate?derror=Off&dc=FALSE",
 "POST /api/negotiate?derror=0&dc=false",
 "POST /api/negotiate?derror=&dc=off",
 "POST /api/negotiate"]
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body eval
[map { "url=https://contoso.service.signalr.net/client/?hub=chat
header={\"alg\":\"HS256\",\"typ\":\"JWT\"}
payload={${_}\"nbf\":NOW,\"exp\":NOW+3600,\"iat\":NOW,\"aud\":\"https://contoso.service.signalr.net/client/?hub=chat\"}
signed=A
" } ('"asrs.s.dc":"true","asrs.s.derror":"True",',
     '"asrs.s.derror":"True",',
     '"asrs.s.dc":"true",',
     '"asrs.s.dc":"true","asrs.s.derror":"True",',
     '', '', '', '')]
--- no_error_log
[error]



=== TEST 41: constant off, false, 0 and empty give no claim
--- config
    location = /a { signalr_negotiate chat; signalr_negotiate_detailed_errors off; signalr_negotiate_diagnostic_client ""; }
    location = /b { signalr_negotiate chat; signalr_negotiate_detailed_errors FALSE; signalr_negotiate_diagnostic_client 0; }
--- request eval
["POST /a", "POST /b"]
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body eval
[("url=https://contoso.service.signalr.net/client/?hub=chat
header={\"alg\":\"HS256\",\"typ\":\"JWT\"}
payload={\"nbf\":NOW,\"exp\":NOW+3600,\"iat\":NOW,\"aud\":\"https://contoso.service.signalr.net/client/?hub=chat\"}
signed=A
") x 2]
--- no_error_log
[error]



=== TEST 42: inherited from http and server, replaced by a level's own value; none configured: no claim
--- http_config eval
"signalr_endpoint \"$::CS_A\";
    signalr_negotiate_diagnostic_client true;"
--- config
    signalr_negotiate_detailed_errors 1;
    location = /inherit { signalr_negotiate chat; }
    location = /replace {
        signalr_negotiate chat;
        signalr_negotiate_detailed_errors off;
        signalr_negotiate_diagnostic_client $arg_dc;
    }
--- request eval
["POST /inherit", "POST /replace", "POST /replace?dc=on"]
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body eval
[map { "url=https://contoso.service.signalr.net/client/?hub=chat
header={\"alg\":\"HS256\",\"typ\":\"JWT\"}
payload={${_}\"nbf\":NOW,\"exp\":NOW+3600,\"iat\":NOW,\"aud\":\"https://contoso.service.signalr.net/client/?hub=chat\"}
signed=A
" } ('"asrs.s.dc":"true","asrs.s.derror":"True",', '', '"asrs.s.dc":"true",')]
--- no_error_log
[error]



=== TEST 43: the switches reach $signalr_access_token too
--- config
    location = /custom {
        signalr_negotiate chat;
        signalr_negotiate_detailed_errors on;
        return 200 '{"url":"$signalr_client_url","accessToken":"$signalr_access_token"}';
    }
--- request
GET /custom
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=https://contoso.service.signalr.net/client/?hub=chat
header={"alg":"HS256","typ":"JWT"}
payload={"asrs.s.derror":"True","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"https://contoso.service.signalr.net/client/?hub=chat"}
signed=A
--- no_error_log
[error]



=== TEST 44: a constant that is neither on nor off fails the configuration, naming the directive
--- config
    location = /api/negotiate { signalr_negotiate chat; signalr_negotiate_detailed_errors yes; }
--- must_die
--- error_log
invalid value "yes" in "signalr_negotiate_detailed_errors" directive, it must be "on" or "off" (or "true", "1", "false", "0", "")



=== TEST 45: a constant that is neither on nor off fails the configuration at the http level too
--- http_config eval
"signalr_endpoint \"$::CS_A\";
    signalr_negotiate_diagnostic_client enabled;"
--- config
    location = /api/negotiate { signalr_negotiate chat; }
--- must_die
--- error_log
invalid value "enabled" in "signalr_negotiate_diagnostic_client" directive, it must be "on" or "off" (or "true", "1", "false", "0", "")



=== TEST 46: a value of the variables that is neither on nor off: 500, no token, logged at error naming the directive (the value escaped)
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_negotiate_detailed_errors $arg_derror;
    }
--- request
POST /api/negotiate?derror=yes%20please
--- error_code: 500
--- response_body chomp
{"error":"the access token could not be created"}
--- error_log eval
qr/\[error\].*signalr: negotiate failed: "signalr_negotiate_detailed_errors" is "yes%2520please", neither on nor off: map its value to on or off/
--- no_error_log
eyJhbGciOi



=== TEST 47: the same for signalr_negotiate_diagnostic_client, its value cut to 64 bytes in the log
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_negotiate_diagnostic_client $http_x_diag;
    }
--- request
POST /api/negotiate
--- more_headers eval
"X-Diag: " . ("d" x 70) . "\n"
--- error_code: 500
--- response_body chomp
{"error":"the access token could not be created"}
--- error_log eval
qr/\[error\].*signalr: negotiate failed: "signalr_negotiate_diagnostic_client" is "d{64}", neither on nor off/
--- no_error_log
eyJhbGciOi



=== TEST 48: signalr_negotiate_detailed_errors is not duplicated
--- config
    location = /u { signalr_negotiate chat; signalr_negotiate_detailed_errors on; signalr_negotiate_detailed_errors $arg_x; }
--- must_die
--- error_log
"signalr_negotiate_detailed_errors" directive is duplicate



=== TEST 49: signalr_negotiate_diagnostic_client is not duplicated
--- config
    location = /u { signalr_negotiate chat; signalr_negotiate_diagnostic_client off; signalr_negotiate_diagnostic_client off; }
--- must_die
--- error_log
"signalr_negotiate_diagnostic_client" directive is duplicate



=== TEST 50: a user claim asrs.s.derror is refused, pointing to its directive
--- config
    location = /api/negotiate { signalr_negotiate chat; signalr_claim asrs.s.derror True; }
--- must_die
--- error_log
claim "asrs.s.derror" is refused: "asrs.s.*" claims are reserved for the service (use "signalr_negotiate_detailed_errors" for detailed errors)



=== TEST 51: a user claim asrs.s.dc is refused (any casing), pointing to its directive
--- config
    location = /api/negotiate { signalr_negotiate chat; signalr_claim Asrs.S.DC true; }
--- must_die
--- error_log
claim "Asrs.S.DC" is refused: "asrs.s.*" claims are reserved for the service (use "signalr_negotiate_diagnostic_client" for a diagnostic client)



=== TEST 52: any other asrs.s.* user claim is still refused
--- config
    location = /api/negotiate { signalr_negotiate chat; signalr_claim asrs.s.aut Cookies; }
--- must_die
--- error_log eval
qr/claim "asrs\.s\.aut" is refused: "asrs\.s\.\*" claims are reserved for the service in /



=== TEST 53: values of the request that make the token too long together, though leaving out any one would not be enough: 400 naming the longest (make badinput found a 500 here)
--- config
    location = /api/negotiate {
        signalr_negotiate chat;
        signalr_user_id $arg_user;
        signalr_claim note $http_x_note;
    }
--- request eval
"POST /api/negotiate?user=" . ("u" x 3000)
--- more_headers eval
"X-Note: " . ("n" x 3001)
--- error_code: 400
--- response_body chomp
{"error":"the claim \"note\" is too long for an access token"}
--- error_log eval
qr/\[info\].*signalr: negotiate refused: the claim "note" is too long for an access token/
--- no_error_log
[error]
eyJhbGciOi
