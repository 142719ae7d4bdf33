# Regressions that depend on the nginx version or on nginx's configuration
# machinery: headers pushed without "next" (nginx >= 1.23), limit_except
# blocks, nested locations, media types with parameters.
use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use SignalRTest;

our $CS_A = 'Endpoint=https://contoso.service.signalr.net;'
    . "AccessKey=$SignalRTest::KEYS{A};Version=1.0;";
our $CS_S1 = 'Endpoint=https://a.example.net;'
    . "AccessKey=$SignalRTest::KEYS{S1};Version=1.0;";
our $CID = '0f9c97a2f0bf4706afe87a14e0797b11';
our $SIG1 = 'sha256=7767effcb3946f3e1de039df4b986ef02c110b1469d02c0a06f41b3b727ab561';
sub invocation {
    my ($target) = @_;
    return qq({"type":1,"invocationId":"0","target":"$target","arguments":[]});
}

sub upstream {
    my ($event) = @_;
    return "X-ASRS-Connection-Id: $CID\nX-ASRS-Hub: chat\n"
        . "X-ASRS-Category: messages\nX-ASRS-Event: $event\n"
        . "X-ASRS-Signature: $SIG1\nContent-Type: application/json\n";
}

# the worker crash of nginx >= 1.23 needed freed memory to be reused with
# other bytes to show every time
$ENV{MALLOC_PERTURB_} ||= 90;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a route reads the headers the module gives its subrequest ($content_type, repeated-header walks)
--- http_config eval
"signalr_endpoint \"$::CS_S1\";"
--- config
    location = /upstream { signalr_trigger /route/$signalr_event; }
    location = /route/ct {
        internal;
        default_type application/json;
        return 200 '"$content_type|$http_content_type|$http_x_asrs_hub|$http_cookie|$http_x_forwarded_for"';
    }
--- request eval
["POST /upstream\r\n" . main::invocation("ct"), "POST /upstream\r\n" . main::invocation("ct"),
 "POST /upstream\r\n" . main::invocation("ct")]
--- more_headers eval
[main::upstream('ct'), main::upstream('ct'), main::upstream('ct')]
--- response_body eval
[('{"type":3,"invocationId":"0","result":"application/json|application/json|chat||"}' . "\x1e") x 3]
--- no_error_log
[error]
[alert]
