# Microsoft Entra ID in place of an AccessKey (docs/keyless.md): the token
# requests of each credential through the entra= location, the key exchange
# through rest=, the credentials shared by the workers, client tokens signed
# with the exchanged key and named by its "kid", REST calls carrying the
# Entra token, requests that wait for the first key and the 503 after it.
# The token services and the service are stand-ins: locations of this nginx
# (exact requests checked with "if"), or tcp_listen where the request's
# bytes are asserted.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;

# an RS256-shaped token (only its characters matter to the module)
our $TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.'
    . 'eyJhdWQiOiJodHRwczovL3NpZ25hbHIuYXp1cmUuY29tIn0.c2lnbmF0dXJl';
our $KEY = $SignalRTest::KEYS{ENTRA};

# a negotiate answer whose token's header is {"alg":"HS256","kid":"t-key1",...}
our $KID1 = qr/"accessToken":"eyJhbGciOiJIUzI1NiIsImtpZCI6InQta2V5MSIsInR5cCI6IkpXVCJ9\./;

# each test its own service, so that the zone (kept by HUP reloads) holds
# no credentials of another test
sub cs {
    my ($host, $rest) = @_;
    return "Endpoint=http://$host.example.net;$rest;Version=1.0;";
}

# the endpoint, and the stand-ins' log of the requests they got (GET /log)
sub http {
    my ($cs, $params) = @_;
    $params //= '';
    return "log_format standin '\$request_method \$uri';\n"
        . "signalr_endpoint \"$cs\" rest=/_signalr entra=/_entra $params;";
}

our $STANDINS = <<"EOT";
    location /_entra/ {
        internal;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT;
    }
    location /_signalr/ {
        internal;
        proxy_pass http://127.0.0.1:\$TEST_NGINX_SERVER_PORT;
    }
    location = /log {
        alias logs/standin.log;
    }
    location = /metadata/identity/oauth2/token {
        access_log logs/standin.log standin;
        if (\$http_metadata != "true") {
            return 400 '{"error":"invalid_request","error_description":"Required metadata header not specified"}';
        }
        if (\$args !~ "^api-version=2018-02-01&resource=https%3A%2F%2Fsignalr.azure.com(&client_id=[a-z0-9-]+)?\$") {
            return 400 '{"error":"invalid_request","error_description":"bad query"}';
        }
        return 200 '{"access_token":"$TOKEN","client_id":"c","expires_in":"86399","expires_on":"4102444800","ext_expires_in":"86399","not_before":"1700000000","resource":"https://signalr.azure.com","token_type":"Bearer"}';
    }
    location = /api/auth/accessKey {
        access_log logs/standin.log standin;
        if (\$http_authorization != "Bearer $TOKEN") {
            return 401;
        }
        if (\$args != "api-version=2024-12-01") {
            return 400;
        }
        return 200 '{"AccessKey":"$KEY","KeyId":"t-key1"}';
    }
    location /api/hubs/ {
        access_log logs/standin.log standin;
        if (\$http_authorization != "Bearer $TOKEN") {
            return 401;
        }
        return 202;
    }
    location = /negotiate {
        signalr_negotiate chat;
        signalr_user_id \$arg_user;
    }
    location = /send {
        signalr_output chat;
    }
EOT

# the tenant's signing keys (a JWKS) and RS256 bearer tokens of upstream
# calls, made with Python's cryptography package (t/unit/test_entra.c has
# the same): iss https://sts.windows.net/11111111-1111-4111-8111-111111111111/,
# aud api://signalr-upstream, exp 2100
our $JWKS = '{"keys":[{"kty":"RSA","use":"sig","kid":"k1","x5t":"k1","n":"kHQUt5kDNTz1pPoWwLELgpES8-0MYEeLeqxQ0BKTY1ZCqfDqbWIWdcux9a2hi1tHcW2ivLERzKPwlw-KfjZrx0zTIg54WpqAS85X8RrsQsrO_EfC2MaACHdIkp9ng5A-Q1fkjJVLdme6_ZGwpVQcik6YDa2lHKEVPLHu_oyZKGyBhWp2yChHKznXCNYSkUsy4OOFanNfUnj1cFVxs8LpqZSGceyLprMIJJqCQbrHdp5uEQhol6XSwp_mO-wjg5Xt0gIdX-jjGGZG-sjOgEhvoX8-z2qwO2pOlm2BPzbD7O43ZvifGil7kCKLACd-T3XKKnADfnYJ3chzAMhzLAdd-w","e":"AQAB","x5c":["MIIB"]},{"kty":"EC","kid":"ec","crv":"P-256","x":"a","y":"b"}]}';
our $RS256_GOOD = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcGk6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5uZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlkIjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoibyIsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.bFIjvbxkj8lHBINcOYx6vDUro3Vw1T60GPD4V1LuSV0qsgxQTttHcu_ZEVgnTlIKf1B-NKKYrGGx4bTFaSRFUlmiVl9VriYnCv0RZ6WGa2YwaHCt1T_Kh-cRJOB4aJgdxfEOjB3VqpLjZpzuoqFre7Daqb9lMlEahwObQqBSW3gAM51eCJXVJR0BIRDkJUgWQKDNh_M-KyUmuxbgUoDIqOjDTjVmSOJAEjeidW-o64uJPmgS4tgsVZfMcvsgiH8Y1_A1kzNYDIip1JDgmNFvX0a2aJSvKgpJqEoLSiJyh9dJNzv_U-qfMc2DLgprUiMWZwPJ5LVP7K7U5nNnq3x7BA';
our $RS256_AUD_ARRAY = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOlsieCIsImFwaTovL3NpZ25hbHItdXBzdHJlYW0iXSwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5uZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlkIjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoibyIsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.HdRN9JSJK8M7SkFIuCWjC7PTGrLS6AtbbFkkmCNg2_URtWXIQGr2Q9byKaK64CavlNM-wRpCT0_4SAPBxzOGmQn_H9Vxk97wU6rokpdt9VGwEzby8b5LZqtrXXADGsBLXkjIl6fYcucfI3zNPNCeZE1eQCCKyKF0TYFgoXmzh2CTy3wvJLYI6U8ndvGUXV4_joiUbFO2Ie-3zAMcpoW1guSvqsAmHsT6KoY_T1qlvo_ahJVmRuZ2D0HWVQ2USJtlRXt3E5MImpMZnhG4S1g61YNldAuxaN1QWCi6Ot9CmpJVEC0PL4EBSn6B62nJotT2_XTa7VcjSkbOYmO24D-fig';
our $RS256_WRONG_AUD = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcGk6Ly9vdGhlciIsImlzcyI6Imh0dHBzOi8vc3RzLndpbmRvd3MubmV0LzExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMS8iLCJpYXQiOjE3MDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwLCJhcHBpZCI6IjIyMjIyMjIyLTIyMjItNDIyMi04MjIyLTIyMjIyMjIyMjIyMiIsIm9pZCI6Im8iLCJ0aWQiOiIxMTExMTExMS0xMTExLTQxMTEtODExMS0xMTExMTExMTExMTEifQ.JJPCbqx53Lcraakln40pOvbP1Dx4Ba_EbIfyxlqWNAcOz0Fl55CHLw4ehiHs3zHNi2k6RQYMhoSF408RRp4qZl80ZEuG5ANAZ5ekXL3dWQdzoIdw-Gyx6jhWa3gQraUJ9Wlg0JoqHbDdP50oA_UfmcWxWxF4YGHviWN4DAGSQ2lLPuH7iePcEMyE49zkoFm62TeSr0sGcy2aZUjqQJoRgZLur0Cg2BzyG57mRYwl8aj7j55FNaKEIR_tee9FS-5r6C22oYKEaxyZSWhzW4n8GKw7lLIhI4aGLLphu5IdeBWLiV2a6nHEodm5jP_CVitAyxw8i2FbQjU1S1L_e4PYng';
our $RS256_WRONG_ISS = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcGk6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5uZXQvZXZpbC8iLCJpYXQiOjE3MDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwLCJhcHBpZCI6IjIyMjIyMjIyLTIyMjItNDIyMi04MjIyLTIyMjIyMjIyMjIyMiIsIm9pZCI6Im8iLCJ0aWQiOiIxMTExMTExMS0xMTExLTQxMTEtODExMS0xMTExMTExMTExMTEifQ.UstZmAP4XzarDKTIXKTXwRu4PrC-Hj9Z5XzI-w5vx_IT9CERrPG1XZUZieJeoRo8l8dZpa4WFC_TE6YM9BUesVdiTrRZfWjJQCQRm_Xsak8oZ_hDg1BkSMcQsC6-oXVlsuaKkQhxZzEUIDqgt3iNBBHxT5Ovzl1vi_RIKR2bAnLEZe0cHbBQDPY6YUzXetpXMkQYjaYb4BttV-zslOlhUCbd5ugoGykX5FpvbX4csEz1VMkvHaAMooAGF8N8WXnAAnn0aDOYeuvUS5H_oRpSjX4s_FgP3x5zEasOwKjQnmQPCacQYne5TbAIRyHMNPAVer_yQD24XMgqlj8ol0kbHg';
our $RS256_EXPIRED = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcGk6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5uZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAsImFwcGlkIjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoibyIsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.aIDCiTPAz7Z4OX-tG-BnQNIw7j6xzIPSyHkEhuZQVkhztlXFhkgxbVonuS73-sE_lcSNIeFUkkoveBiIt01adGWaqdHx_aYCEs8F-2qMvS55lhDVmpbSSZfSBNNQ-FfUZYm2Br4dBaYO0NC41sS20GJZR_2y87JZcdieHrajX2P7gdoJc-toDKf4icQGcm5wQpaawoHKM2j3j0vPCgWJChWhv_2YyuUmN67DcY9bpgUkIuByYOnDBcs-EKT2CrlgGY4_x_iEzgYiQrZQ2Byq0wmjfevLOA7muIC9FAIgXnSsxLgBH7rHy_9s1pc90AaoIiBokGbkH5kZ1XjZqwLepw';
our $RS256_NOT_YET = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcGk6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5uZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjo0MTAyNDQ0MDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlkIjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoibyIsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.YVnnaF7Te4tMJTfujxwDjwL9bnR8OkeP9aIqrwUHtlAezETW3QejWEXoT3BlhvXYYXthrBEFlmaf_u1iDBQYuNBtMKnxAr6VaycGJd4Q_1akRmLgyOJu2FpD9f50WBPxFSewpyxhajrn-u219mtcUGW2s-EnssZwemw2jiYb4lJZAwvN3tQx-jzBesCtbQBh5Bp7LvkCsIO0BTspJUx2VWxlDCZe_nZ7IPmZBK4C2ciJ2NcqzwWSn9zXfiC09RGBVylyrACAtIt6OcDZT_J3osFBtBc0WoCbTGstRX_OhK8K78J-lMjEZGcbd_sA97a42Y7HOEbDFbbGyz_l3UbY3g';
our $RS256_OTHER_KEY = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcGk6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5uZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlkIjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoibyIsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.oV2lSc7UPmW1nxq5-FPmVpESz_EE94B5Yr3pEiSJ1u_ohgAMvw5WS4EEtYL5h285vDe4MGImBXIyEeR4aonVJiMgH44UbWF6cB88wxkyGpOhfxJHN6egtMJZUMLAgjZAeUYf3Lr5AonJlGi6qjjkra57Clwrz_1isJoyoQgJqy0E4-rUMP1rMnKHFR1y3jBjc9mJ6yvIw5ZtH-Bu7ECh27QuUtqhUIxBpaOHHX43-84mtzNGig6BHKc5ekWr51nGrYf-mrJFBQiqWiIl5m7FDXFHR4xge6TQs-cGX8Gz09X1rupht9g9E59_0-H53tG5FpQCj68LayT3V9k8spZpFw';
our $RS256_UNKNOWN_KID = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6Ims5In0.eyJhdWQiOiJhcGk6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5uZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlkIjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoibyIsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.H0JTLNmRfSGEY8qjX5_WSdOOOhTNGh-kCdCIapRDEsvAfnRP1tVv6mJJiJUM83XNhSbMGaQU7L5ehcHpLVJsWXbMyjOVLeSBkNSOdzMgStY3oQH61JBPXaGvfLp-r7boq3SmWNqwJrfi3axgYrtkXBjD1XvmLWTPgnJXsWeMU1sYqJ2IrfNkf3Ndijs2e0mgjDt7SBDTJ72-aO0jeVwMc4BI2_iQNinwi5CoFNUjeCoyZCfFufkC_K8rq1KcijoG3eA3mbBIG41u1vNMWtv7BLa8hg8eIKI2NXlHDMydpLycqN5ZA6A-ueJr2XDgeVnx6sdzSu94gCCJGSh3BjGc4A';
our $RS256_HS256 = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcGk6Ly9zaWduYWxyLXVwc3RyZWFtIiwiaXNzIjoiaHR0cHM6Ly9zdHMud2luZG93cy5uZXQvMTExMTExMTEtMTExMS00MTExLTgxMTEtMTExMTExMTExMTExLyIsImlhdCI6MTcwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImFwcGlkIjoiMjIyMjIyMjItMjIyMi00MjIyLTgyMjItMjIyMjIyMjIyMjIyIiwib2lkIjoibyIsInRpZCI6IjExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMSJ9.O13rSo92N3pRCrImQSCwauGV02k3d76XcITNXRR-j3Hv0BrPkzXEcTfREhAVNJCD0yWSX_K10NKlPJA9I3VGgnbyNFITW-JpIoT0OwWVegFnudtcqqIHFXkyBUbupJ3i_5h_d-yBN7vdjjwVuajj7gMAb1J3aM7B4uRbvnSLO3c54FtdU7dHpOSThd4-FJw14isc2F7hNM_FLJ34SYBuqbqxhSGo70g4vverHU8vBnW17JqO_HwHLb1r-zMrfN27naasZwvQcRZhMUPLpmWO_hduVvu-M1EJ98ivQjslV550cAwYPi9PUCU0aW2ewljq0XZVO7OCQMvFLic_g6Bibg';
our $RS256_TAMPERED = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJhdWQiOiJhcGk6Ly9vdGhlciIsImlzcyI6Imh0dHBzOi8vc3RzLndpbmRvd3MubmV0LzExMTExMTExLTExMTEtNDExMS04MTExLTExMTExMTExMTExMS8iLCJpYXQiOjE3MDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjo0MTAyNDQ0ODAwLCJhcHBpZCI6IjIyMjIyMjIyLTIyMjItNDIyMi04MjIyLTIyMjIyMjIyMjIyMiIsIm9pZCI6Im8iLCJ0aWQiOiIxMTExMTExMS0xMTExLTQxMTEtODExMS0xMTExMTExMTExMTEifQ.bFIjvbxkj8lHBINcOYx6vDUro3Vw1T60GPD4V1LuSV0qsgxQTttHcu_ZEVgnTlIKf1B-NKKYrGGx4bTFaSRFUlmiVl9VriYnCv0RZ6WGa2YwaHCt1T_Kh-cRJOB4aJgdxfEOjB3VqpLjZpzuoqFre7Daqb9lMlEahwObQqBSW3gAM51eCJXVJR0BIRDkJUgWQKDNh_M-KyUmuxbgUoDIqOjDTjVmSOJAEjeidW-o64uJPmgS4tgsVZfMcvsgiH8Y1_A1kzNYDIip1JDgmNFvX0a2aJSvKgpJqEoLSiJyh9dJNzv_U-qfMc2DLgprUiMWZwPJ5LVP7K7U5nNnq3x7BA';

our $ISS = 'https://sts.windows.net/11111111-1111-4111-8111-111111111111/';

sub upstream {
    my ($auth) = @_;
    return "X-ASRS-Connection-Id: c1\nX-ASRS-Hub: chat\n"
        . "X-ASRS-Category: connections\nX-ASRS-Event: connected\n"
        . "Content-Type: application/json\n"
        . (defined $auth ? "Authorization: $auth\n" : '');
}

# a stand-in log with its lines sorted (requests made at once: any order)
sub sorted_log {
    my ($body) = @_;
    return $body unless $body =~ /^(?:GET|POST) /;
    return join '', map { "$_\n" } sort split /\n/, $body;
}

# the refusals' lines of an error log served as a response; others as they are
sub refusals {
    my ($body) = @_;
    return $body unless $body =~ /\[notice\]/;
    return join '', map { "$_\n" }
        $body =~ /(signalr: upstream call (?:without a bearer token refused|refused: its bearer token: [^,]*))/g;
}

our $TRIGGER = <<'EOT';
    location = /errlog {
        alias logs/error.log;
    }
    location = /upstream {
        signalr_trigger /route;
        signalr_trigger_verify entra;
        signalr_trigger_entra
            issuer=https://sts.windows.net/11111111-1111-4111-8111-111111111111/
            audience=api://signalr-upstream jwks=file:../html/keys.json;
    }
    location = /route {
        internal;
        return 204;
    }
EOT

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a managed identity (IMDS): the first negotiate waits for the key, its token names it ("kid") and is signed with it
--- http_config eval
main::http(main::cs('t1', 'AuthType=azure.msi'))
--- config eval
$::STANDINS
--- request
POST /negotiate?user=alice
--- response_body_filters eval
\&SignalRTest::negotiate
--- response_body
url=http://t1.example.net/client/?hub=chat
header={"alg":"HS256","kid":"t-key1","typ":"JWT"}
payload={"asrs.s.uid":"alice","nbf":NOW,"exp":NOW+3600,"iat":NOW,"aud":"http://t1.example.net/client/?hub=chat"}
signed=ENTRA
--- error_log
signalr: endpoint "t1.example.net": Microsoft Entra ID key "t-key1" obtained for the system managed identity (Azure Instance Metadata Service)
--- no_error_log eval
["[error]", qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*(?:\Q$::TOKEN\E|\Q$::KEY\E)/]



=== TEST 2: REST calls carry the Entra token itself, as the SDK sends it; with 2 workers, one refresh in all (one token request, one exchange) serves every request
--- workers: 2
--- http_config eval
main::http(main::cs('t2', 'AuthType=azure.msi'))
--- config eval
$::STANDINS
--- request eval
["POST /send\n{\"target\":\"t\"}", "POST /negotiate", "POST /send\n{\"target\":\"t\",\"userId\":\"u\"}", "POST /negotiate", "POST /negotiate", "POST /send\n{\"target\":\"t\"}", "POST /negotiate", "POST /negotiate", "GET /log"]
--- error_code eval
[202, 200, 202, 200, 200, 202, 200, 200, 200]
--- response_body eval
['{"completed":1,"total":1}', $::KID1, '{"completed":1,"total":1}', $::KID1, $::KID1, '{"completed":1,"total":1}', $::KID1, $::KID1,
"GET /metadata/identity/oauth2/token
GET /api/auth/accessKey
POST /api/hubs/chat/:send
POST /api/hubs/chat/users/u/:send
POST /api/hubs/chat/:send
"]
--- no_error_log
[error]



=== TEST 3: a user-assigned managed identity sends its client id
--- http_config eval
"signalr_endpoint \"" . main::cs('t3', 'AuthType=azure.msi;ClientId=0c2b7b1e-5f4a-4c8e-9d9b-2f1a3e4d5c6b') . "\" rest=/_signalr entra=/_entra entra_wait=1s;"
--- config
    location /_entra/ {
        internal;
        proxy_pass http://127.0.0.1:19891;
    }
    location = /negotiate { signalr_negotiate chat; }
--- tcp_listen: 19891
--- tcp_query_len: 236
--- tcp_query eval
"GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fsignalr.azure.com&client_id=0c2b7b1e-5f4a-4c8e-9d9b-2f1a3e4d5c6b HTTP/1.0\r
Host: 127.0.0.1:19891\r
Connection: close\r
Content-Length: 0\r
Metadata: true\r
\r
"
--- tcp_reply eval
"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 2\r\n\r\n{}"
--- request
POST /negotiate
--- more_headers
X-Client-Header: never-sent
--- error_code: 503
--- response_headers_like
Retry-After: [1-3]
Content-Type: application/json
--- response_body chomp
{"error":"the service's Microsoft Entra ID key is not available yet"}
--- error_log
the Microsoft Entra token request of the user-assigned managed identity with client id 0c2b7b1e-5f4a-4c8e-9d9b-2f1a3e4d5c6b (Azure Instance Metadata Service) through "/_entra/metadata/identity/oauth2/token" was answered with status 500



=== TEST 4: App Service, Functions, Container Apps: IDENTITY_ENDPOINT's path with X-IDENTITY-HEADER (from "env"), api-version 2019-08-01
--- main_config
env IDENTITY_ENDPOINT=http://localhost:42356/msi/token;
env IDENTITY_HEADER=the-identity-header;
--- http_config eval
main::http(main::cs('t4', 'AuthType=azure.msi'))
--- config eval
"$::STANDINS
    location = /msi/token {
        access_log logs/standin.log standin;
        if (\$http_x_identity_header != 'the-identity-header') {
            return 401 '{\"error\":{\"code\":\"UnauthorizedAccess\",\"message\":\"bad header\"}}';
        }
        if (\$args != 'api-version=2019-08-01&resource=https%3A%2F%2Fsignalr.azure.com') {
            return 400;
        }
        return 200 '{\"access_token\":\"$::TOKEN\",\"expires_on\":4102444800,\"resource\":\"https://signalr.azure.com\",\"token_type\":\"Bearer\"}';
    }"
--- request eval
["POST /negotiate", "GET /log"]
--- response_body eval
[$::KID1, "GET /msi/token\nGET /api/auth/accessKey\n"]
--- no_error_log eval
["[error]", qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*the-identity-header/]



=== TEST 5: a client secret (azure.app): the client-credentials form, exactly, to /<tenant>/oauth2/v2.0/token; the secret escaped, no client header
--- http_config
signalr_endpoint "Endpoint=http://t5.example.net;AuthType=azure.app;ClientId=app-1;TenantId=contoso.onmicrosoft.com;ClientSecret=s3cr+t/=~x;Version=1.0" rest=/_signalr entra=/_entra entra_wait=1s;
--- config
    location /_entra/ {
        internal;
        proxy_pass http://127.0.0.1:19892;
    }
    location = /negotiate { signalr_negotiate chat; }
--- tcp_listen: 19892
--- tcp_query_len: 297
--- tcp_query eval
"POST /contoso.onmicrosoft.com/oauth2/v2.0/token HTTP/1.0\r
Host: 127.0.0.1:19892\r
Connection: close\r
Content-Length: 125\r
Content-Type: application/x-www-form-urlencoded\r
\r
grant_type=client_credentials&client_id=app-1&scope=https%3A%2F%2Fsignalr.azure.com%2F.default&client_secret=s3cr%2Bt%2F%3D~x"
--- tcp_reply eval
"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n" . '{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}'
--- request
POST /negotiate
--- more_headers
Cookie: session=never-sent
--- error_code: 503
--- response_headers_like
Retry-After: [1-3]
--- error_log
signalr: endpoint "t5.example.net": the Microsoft Entra token request of the app with client id app-1 of tenant contoso.onmicrosoft.com (client secret) through "/_entra/contoso.onmicrosoft.com/oauth2/v2.0/token" was answered with status 401 (invalid_client: AADSTS7000215: Invalid client secret provided.)
--- no_error_log eval
[qr/\[(?:info|notice|warn|error|crit|alert|emerg)\].*s3cr/]



=== TEST 6: workload identity (AuthType=azure with AZURE_FEDERATED_TOKEN_FILE): the file's token as the client assertion, read at each request
--- main_config eval
"env AZURE_FEDERATED_TOKEN_FILE=$Test::Nginx::Util::ServRoot/html/federated-token;
env AZURE_CLIENT_ID=wl-app;
env AZURE_TENANT_ID=tenant-2;"
--- user_files
>>> federated-token
eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpuZ2lueCJ9.sig
--- http_config
signalr_endpoint "Endpoint=http://t6.example.net;AuthType=azure;Version=1.0" rest=/_signalr entra=/_entra entra_wait=1s;
--- config
    location /_entra/ {
        internal;
        proxy_pass http://127.0.0.1:19893;
    }
    location = /negotiate { signalr_negotiate chat; }
--- tcp_listen: 19893
--- tcp_query_len: 442
--- tcp_query eval
"POST /tenant-2/oauth2/v2.0/token HTTP/1.0\r
Host: 127.0.0.1:19893\r
Connection: close\r
Content-Length: 285\r
Content-Type: application/x-www-form-urlencoded\r
\r
grant_type=client_credentials&client_id=wl-app&scope=https%3A%2F%2Fsignalr.azure.com%2F.default&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpuZ2lueCJ9.sig"
--- tcp_reply eval
"HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}"
--- request
POST /negotiate
--- error_code: 503
--- error_log
the Microsoft Entra token request of the app with client id wl-app of tenant tenant-2 (workload identity) through "/_entra/tenant-2/oauth2/v2.0/token" was answered with status 400



=== TEST 7: the exchange refused with 403: the log names the identity and the role it lacks; negotiate answers 503 with Retry-After after entra_wait=
--- http_config eval
main::http(main::cs('t7', 'AuthType=azure.msi'), 'entra_wait=500ms')
--- config eval
my $s = $::STANDINS;
$s =~ s/return 200 '\{"AccessKey"/return 403 '{"AccessKey"/;
$s
--- request
POST /negotiate
--- error_code: 503
--- response_headers_like
Retry-After: [1-3]
--- response_body chomp
{"error":"the service's Microsoft Entra ID key is not available yet"}
--- error_log
signalr: endpoint "t7.example.net": the key exchange for the system managed identity (Azure Instance Metadata Service) was refused: give the identity the role "SignalR App Server" on the SignalR resource (Access control (IAM)), then wait a few minutes for it to apply (status 403, x-ms-error-code: none)



=== TEST 8: output without credentials: 503 with Retry-After, nothing sent
--- http_config eval
main::http(main::cs('t7b', 'AuthType=azure.msi'), 'entra_wait=300ms')
--- config eval
my $s = $::STANDINS;
$s =~ s/return 200 '\{"AccessKey"/return 401 '{"AccessKey"/;
$s
--- request eval
["POST /send\n{\"target\":\"t\"}", "GET /log"]
--- error_code eval
[503, 200]
--- response_headers_like eval
["Retry-After: [1-3]", ""]
--- response_body eval
['{"error":"the Microsoft Entra ID credentials of the service are not available yet"}', "GET /metadata/identity/oauth2/token\nGET /api/auth/accessKey\n"]



=== TEST 9: the token service does not answer: named, with the location to check
--- http_config eval
main::http(main::cs('t8', 'AuthType=azure.msi'), 'entra_wait=0')
--- config
    location /_entra/ {
        internal;
        proxy_pass http://127.0.0.1:1;
    }
    location = /negotiate { signalr_negotiate chat; }
--- request
POST /negotiate
--- error_code: 503
--- error_log
the Microsoft Entra token request of the system managed identity (Azure Instance Metadata Service) through "/_entra/metadata/identity/oauth2/token" got no answer (check the location's proxy_pass and the network)



=== TEST 10: AuthType without entra= fails the configuration
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AuthType=azure.msi" rest=/_signalr;
--- config
--- must_die
--- error_log
"signalr_endpoint" with Microsoft Entra ID (AuthType) needs "entra=", the location that proxies its token requests



=== TEST 11: AuthType without rest= fails the configuration (the key is exchanged there)
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AuthType=azure.msi" entra=/_entra;
--- config
--- must_die
--- error_log
"signalr_endpoint" with Microsoft Entra ID (AuthType) needs "entra=", the location that proxies its token requests, and "rest=", through which the key is exchanged



=== TEST 12: entra= with an AccessKey fails the configuration
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k" rest=/_signalr entra=/_entra;
--- config
--- must_die
--- error_log
"entra=" of "signalr_endpoint" is for a connection string with AuthType (Microsoft Entra ID), and this one has an AccessKey



=== TEST 13: signalr_trigger_verify on with only Entra ID endpoints fails the configuration, saying what to do
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AuthType=azure.msi" rest=/_signalr entra=/_entra;
--- config
    location = /upstream { signalr_trigger /route; }
--- must_die
--- error_log
"signalr_trigger" verifies signatures with the AccessKey of a "signalr_endpoint", and every endpoint uses Microsoft Entra ID (AuthType), which has none: use "signalr_trigger_verify entra" (docs/keyless.md)



=== TEST 14: a second signalr_endpoint for an Entra ID service fails the configuration
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AuthType=azure.msi" rest=/_signalr entra=/_entra;
signalr_endpoint "Endpoint=https://x.example.net;AccessKey=k";
--- config
--- must_die
--- error_log
a second "signalr_endpoint" for the service of endpoint "x.example.net" (https://x.example.net/), which uses Microsoft Entra ID: it has no keys to rotate



=== TEST 15: AuthType=azure with AZURE_CLIENT_SECRET but no AZURE_TENANT_ID fails the configuration
--- main_config
env AZURE_CLIENT_SECRET=shh;
env AZURE_CLIENT_ID=app;
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AuthType=azure" rest=/_signalr entra=/_entra;
--- config
--- must_die
--- error_log
"signalr_endpoint" with AuthType=azure takes AZURE_CLIENT_SECRET from the environment, which also needs AZURE_CLIENT_ID and AZURE_TENANT_ID



=== TEST 16: entra_wait= is at most 60s
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AuthType=azure.msi" rest=/_signalr entra=/_entra entra_wait=61s;
--- config
--- must_die
--- error_log
invalid "entra_wait=61s" in "signalr_endpoint": a time of at most 60s



=== TEST 17: refreshed every entra_refresh=: a request that finds the refresh due goes on with the valid key, the next ones get the new one (a rotated key id)
--- http_config eval
main::http(main::cs('t17', 'AuthType=azure.msi'), 'entra_refresh=2s')
--- config eval
my $s = $::STANDINS;
$s =~ s/"KeyId":"t-key1"/"KeyId":"t-\$msec"/;
$s . "
    location = /slow {
        proxy_pass http://127.0.0.1:19894;
    }"
--- tcp_listen: 19894
--- tcp_reply_delay: 2500ms
--- tcp_reply eval
"HTTP/1.0 200 OK\r\n\r\nok"
--- request eval
["POST /negotiate", "GET /slow", "POST /negotiate", "POST /negotiate", "GET /log"]
--- response_body_filters eval
\&SignalRTest::kid_order
--- response_body eval
["key 1\n", "ok", "key 1\n", "key 2\n", "GET /metadata/identity/oauth2/token\nGET /api/auth/accessKey\nGET /metadata/identity/oauth2/token\nGET /api/auth/accessKey\n"]
--- no_error_log
[error]



=== TEST 18: a retry that comes due while a request waits runs then (not at the wait's end): the first token request fails, the retry 3 s later brings the key within entra_wait=
--- http_config eval
main::http(main::cs('t18', 'AuthType=azure.msi'), 'entra_wait=8s') . "
upstream imds {
    server 127.0.0.1:19895 max_fails=0;
    server 127.0.0.1:\$TEST_NGINX_SERVER_PORT backup;
}"
--- config eval
my $s = $::STANDINS;
$s =~ s#location /_entra/ \{\s*internal;\s*proxy_pass [^;]+;#location /_entra/ {
        internal;
        proxy_pass http://imds;
        proxy_read_timeout 500ms;
        proxy_next_upstream timeout;#;
$s
--- tcp_listen: 19895
--- tcp_reply eval
"HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n"
--- request
POST /negotiate?user=u
--- response_body_like eval
$::KID1
--- error_log
was answered with status 500
--- timeout: 10



=== TEST 19: an Entra ID endpoint that cannot get a key does not hold up output beside a working endpoint: only the request that finds its refresh under way waits
--- http_config eval
main::http(main::cs('t19', 'AuthType=azure.msi'), 'name=entra entra_wait=3s')
. "\nsignalr_endpoint \"Endpoint=http://k19.example.net;AccessKey=$SignalRTest::KEYS{A};Version=1.0\" name=keyed rest=/_keyed;"
--- config eval
my $s = $::STANDINS;
$s =~ s/return 200 '\{"AccessKey"/return 403 '{"AccessKey"/;
$s . '
    location /_keyed/ {
        internal;
        return 202;
    }'
--- request eval
["POST /send\n{\"target\":\"t\"}", "POST /send\n{\"target\":\"t\"}", "POST /send\n{\"target\":\"t\"}"]
--- error_code eval
[202, 202, 202]
--- response_body eval
[qr/"completed":1/, qr/"completed":1/, qr/"completed":1/]
--- timeout: 2



=== TEST 20: signalr_trigger_verify entra: an upstream call with a bearer token of the tenant's keys, issuer and audience is taken
--- http_config eval
main::http(main::cs('t20', 'AuthType=azure.msi'))
--- config eval
$::STANDINS . $::TRIGGER
--- user_files eval
">>> keys.json\n$::JWKS"
--- request eval
"POST /upstream\n{\"type\":10}"
--- more_headers eval
main::upstream("Bearer $::RS256_GOOD")
--- error_code: 200
--- response_body_like: ^$
--- no_error_log
[error]



=== TEST 21: signalr_trigger_verify entra refuses every other upstream call with 401, saying why in the log (info)
--- http_config eval
main::http(main::cs('t21', 'AuthType=azure.msi'))
--- config eval
$::STANDINS . $::TRIGGER
--- user_files eval
">>> keys.json\n$::JWKS"
--- request eval
["POST /upstream", "POST /upstream", "POST /upstream", "POST /upstream", "POST /upstream", "POST /upstream", "POST /upstream", "POST /upstream", "POST /upstream", "POST /upstream", "POST /upstream", "GET /errlog"]
--- more_headers eval
[main::upstream(), main::upstream("Basic eDp5"), main::upstream("Bearer $::RS256_WRONG_AUD"), main::upstream("Bearer $::RS256_WRONG_ISS"), main::upstream("Bearer $::RS256_EXPIRED"), main::upstream("Bearer $::RS256_NOT_YET"), main::upstream("Bearer $::RS256_OTHER_KEY"), main::upstream("Bearer $::RS256_UNKNOWN_KID"), main::upstream("Bearer $::RS256_HS256"), main::upstream("Bearer $::RS256_TAMPERED"), main::upstream("X-ASRS-Signature: sha256=00"), ""]
--- error_code eval
[401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 200]
--- response_body_filters eval
\&main::refusals
--- response_body eval
['{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', "signalr: upstream call without a bearer token refused
signalr: upstream call without a bearer token refused
signalr: upstream call refused: its bearer token: its aud is not the audience
signalr: upstream call refused: its bearer token: its iss is not the issuer
signalr: upstream call refused: its bearer token: it has expired (or has no exp)
signalr: upstream call refused: its bearer token: it is not valid yet (nbf)
signalr: upstream call refused: its bearer token: its signature is invalid
signalr: upstream call refused: its bearer token: its kid is none of the signing keys
signalr: upstream call refused: its bearer token: its alg is not RS256
signalr: upstream call refused: its bearer token: its signature is invalid
signalr: upstream call without a bearer token refused
"]



=== TEST 22: signalr_trigger_verify entra needs signalr_trigger_entra
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AuthType=azure.msi" rest=/_signalr entra=/_entra;
--- config
    location = /upstream {
        signalr_trigger /route;
        signalr_trigger_verify entra;
    }
--- must_die
--- error_log
"signalr_trigger_verify entra" needs "signalr_trigger_entra": the issuer, the audience and the signing keys of the upstream calls' bearer tokens



=== TEST 23: a JWKS without an RSA signing key fails the configuration
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AuthType=azure.msi" rest=/_signalr entra=/_entra;
--- config eval
$::TRIGGER
--- user_files
>>> keys.json
{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"a","y":"b"}]}
--- must_die
--- error_log eval
qr/"signalr_trigger_entra": ".*keys.json": no RSA signing key/



=== TEST 24: an Entra token that ends during an output request stops that endpoint's calls (the next ones are not sent with it), and the request ends with what was done
--- http_config eval
main::http(main::cs('t24', 'AuthType=azure.msi'))
--- config eval
my $s = $::STANDINS;
$s =~ s/"expires_in":"86399","expires_on":"4102444800"/"expires_in":"32"/;
$s =~ s/return 202;/proxy_pass http:\/\/127.0.0.1:19896;/;
$s
--- tcp_listen: 19896
--- tcp_reply_delay: 2500ms
--- tcp_reply eval
"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
--- request
POST /send
[{"target":"t"},{"target":"t","userId":"u"}]
--- error_code: 503
--- response_body chomp
{"error":"send to user: the Microsoft Entra ID credentials of the service are not available","failed":1,"endpoint":"t24.example.net","status":503,"errorCode":null,"completed":1,"total":2}
--- error_log
signalr: endpoint "t24.example.net" has no Microsoft Entra ID token any more: REST call "send to user" and the next ones are not sent to it
--- timeout: 6



=== TEST 25: signalr_trigger_entra jwks=<location>: the keys are fetched through it into the zone, the first call waiting for them; later calls use them (one fetch)
--- http_config eval
main::http(main::cs('t25', 'AuthType=azure.msi'))
--- config eval
my $t = $::TRIGGER;
$t =~ s{jwks=file:\.\./html/keys\.json}{jwks=/_jwks25};
$::STANDINS . $t . '
    location = /_jwks25 {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/keys.json;
    }
    location = /keys.json {
        access_log logs/standin.log standin;
        root html;
    }'
--- user_files eval
">>> keys.json\n$::JWKS"
--- request eval
["POST /upstream\n{\"type\":10}", "POST /upstream\n{\"type\":10}", "GET /log"]
--- more_headers eval
[main::upstream("Bearer $::RS256_GOOD"), main::upstream("Bearer $::RS256_AUD_ARRAY"), ""]
--- error_code eval
[200, 200, 200]
--- response_body_filters eval
\&main::sorted_log
--- response_body eval
["", "", "GET /api/auth/accessKey\nGET /keys.json\nGET /metadata/identity/oauth2/token\n"]
--- no_error_log
[error]



=== TEST 26: a token whose kid none of the keys has fetches them again, once per 5 minutes across calls, then is refused
--- http_config eval
main::http(main::cs('t26', 'AuthType=azure.msi'))
--- config eval
my $t = $::TRIGGER;
$t =~ s{jwks=file:\.\./html/keys\.json}{jwks=/_jwks26};
$::STANDINS . $t . '
    location = /_jwks26 {
        internal;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/keys.json;
    }
    location = /keys.json {
        access_log logs/standin.log standin;
        root html;
    }'
--- user_files eval
">>> keys.json\n$::JWKS"
--- request eval
["POST /upstream\n{\"type\":10}", "POST /upstream\n{\"type\":10}", "POST /upstream\n{\"type\":10}", "GET /log"]
--- more_headers eval
[main::upstream("Bearer $::RS256_UNKNOWN_KID"), main::upstream("Bearer $::RS256_UNKNOWN_KID"), main::upstream("Bearer $::RS256_GOOD"), ""]
--- error_code eval
[401, 401, 200, 200]
--- response_body_filters eval
\&main::sorted_log
--- response_body eval
['{"error":"invalid or missing bearer token"}', '{"error":"invalid or missing bearer token"}', "", "GET /api/auth/accessKey\nGET /keys.json\nGET /keys.json\nGET /metadata/identity/oauth2/token\n"]



=== TEST 27: keys that cannot be fetched: upstream calls are answered 503 (not checked), the failure logged
--- http_config eval
main::http(main::cs('t27', 'AuthType=azure.msi'))
--- config eval
my $t = $::TRIGGER;
$t =~ s{jwks=file:\.\./html/keys\.json}{jwks=/_jwks27};
$::STANDINS . $t . '
    location = /_jwks27 {
        internal;
        return 404;
    }'
--- request eval
"POST /upstream\n{\"type\":10}"
--- more_headers eval
main::upstream("Bearer $::RS256_GOOD")
--- error_code: 503
--- response_body chomp
{"error":"the signing keys of upstream calls are not available"}
--- error_log
signalr: the signing keys of upstream calls' bearer tokens could not be fetched through "/_jwks27": status 404



=== TEST 28: a jwks= location is one server's: the same URI in two servers fails the configuration
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AuthType=azure.msi" rest=/_signalr entra=/_entra;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location = /upstream {
        signalr_trigger /route;
        signalr_trigger_verify entra;
        signalr_trigger_entra issuer=i audience=a jwks=/_jwks;
    }
}
--- config
    location = /upstream {
        signalr_trigger /route;
        signalr_trigger_verify entra;
        signalr_trigger_entra issuer=i audience=a jwks=/_jwks;
    }
--- must_die
--- error_log
"signalr_trigger_entra": "jwks=/_jwks" is in two servers: give each server's keys a URI of their own



=== TEST 29: a jwks= location at the http level fails the configuration (it is looked up in each server)
--- http_config
signalr_endpoint "Endpoint=https://x.example.net;AuthType=azure.msi" rest=/_signalr entra=/_entra;
signalr_trigger_entra issuer=i audience=a jwks=/_jwks;
--- config
--- must_die
--- error_log
"signalr_trigger_entra" with "jwks=" a location belongs in a server or location block: the location is looked up in its server



=== TEST 30: signalr_trigger_verify entra: the bearer token is checked where the signature would be, after the content type and the X-ASRS-* headers, before the body
--- http_config eval
main::http(main::cs('t30', 'AuthType=azure.msi'))
--- config eval
$::STANDINS . $::TRIGGER
--- user_files eval
">>> keys.json\n$::JWKS"
--- request eval
["POST /upstream\n{\"type\":10}", "POST /upstream\n{\"type\":10}", "POST /upstream\n{\"type\":10}", "POST /upstream\n{", "POST /upstream\n{"]
--- more_headers eval
[main::upstream() =~ s{application/json}{text/plain}r,
 main::upstream("Bearer $::RS256_WRONG_AUD") =~ s{application/json}{text/plain}r,
 main::upstream() =~ s{X-ASRS-Hub: chat\n}{}r,
 main::upstream() =~ s{connected}{disconnected}r,
 main::upstream("Bearer $::RS256_GOOD") =~ s{connected}{disconnected}r]
--- error_code eval
[415, 415, 400, 401, 400]
--- response_body eval
['{"error":"Content-Type must be application/json or application/x-msgpack"}',
 '{"error":"Content-Type must be application/json or application/x-msgpack"}',
 '{"error":"an X-ASRS-Hub, X-ASRS-Category, X-ASRS-Event or X-ASRS-Connection-Id header is missing or empty"}',
 '{"error":"invalid or missing bearer token"}',
 '{"error":"a disconnected event needs the body {\"type\":11}"}']
--- no_error_log
[error]



=== TEST 31: an existence check or a list beside an Entra ID endpoint without its key is not answered from the other endpoint alone: 503 (a "false" would be a guess), unless the other says "exists"
--- http_config eval
main::http(main::cs('t31', 'AuthType=azure.msi'), 'name=entra31 entra_wait=1s')
. "\nsignalr_endpoint \"Endpoint=http://k31.example.net;AccessKey=$SignalRTest::KEYS{A};Version=1.0\" name=keyed31 rest=/_keyed;"
--- config eval
my $s = $::STANDINS;
$s =~ s/return 200 '\{"AccessKey"/return 403 '{"AccessKey"/;
$s . '
    location /_keyed/ {
        internal;
        if ($request_uri ~ /users/alice) { return 200; }
        add_header x-ms-error-code Warning.User.NotExisted always;
        return 404;
    }'
--- request eval
["POST /send\n{\"action\":\"exists\",\"userId\":\"bob\"}",
 "POST /send\n{\"action\":\"exists\",\"userId\":\"alice\"}"]
--- error_code eval
[503, 200]
--- response_body eval
[qr/^\{"error":"user exists: the Microsoft Entra ID credentials of the service are not available","failed":0,"endpoint":"entra31","status":503,/,
 '{"exists":true}']
--- timeout: 4
