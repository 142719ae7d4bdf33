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

# keys of the protocol reference's test vectors (test-vectors.json)
our %KEYS = (
    A   => 'Xb2Qy7mN4pLr8sTv1wZk6dHf3jGc9aEu5oIqRtYvBnM=',
    EMU => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH',
    S1  => '7aab239577fd4f24bc919802fb629f5f',
    S2  => 'a5f2815d0d0c4b00bd27e832432f91ab',
    B   => 'second-key-for-rotation-0123456789abcdefgh=',
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
sub negotiate {
    my ($body) = @_;

    if ($body !~ /^\{"url":"([^"\\]*)","accessToken":"([A-Za-z0-9_.-]+)"\}\z/) {
        return "unexpected body: $body";
    }

    my ($url, $token) = ($1, $2);
    return "token longer than 4096 characters\n" if length($token) > 4096;

    return "url=$url\n" . verify_jwt($token);
}

1;
