# util/valgrind-check, which decides whether `make valgrind` passes, on
# logs written here in the form prove's stderr takes under
# TEST_NGINX_USE_VALGRIND (Test::Nginx's test names, valgrind's ==<pid>==
# lines at verbosity 1, the suppressions --gen-suppressions=all proposes):
# a report in the module's frames fails, one in nginx's frames that is not
# suppressed fails too, an nginx whose memcheck did not finish fails, no
# nginx at all fails, a clean run passes; and the committed suppression
# file passes the check that it cannot hide the module.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);

my $dir = tempdir(CLEANUP => 1);
my $check = 'util/valgrind-check';

sub check {
    my ($log, @opts) = @_;
    my $file = "$dir/prove.log";
    open my $fh, '>', $file or die "$file: $!";
    print $fh $log;
    close $fh;
    my $out = `$^X $check @opts $file 2>&1`;
    return ($? >> 8, $out);
}

sub start {
    my ($pid) = @_;
    return <<"_EOL_";
==$pid== Memcheck, a memory error detector
==$pid== Copyright (C) 2002-2022, and GNU GPL'd, by Julian Seward et al.
==$pid== Command: /usr/sbin/nginx -p /tmp/servroot/ -c conf/nginx.conf
==$pid== 
==$pid== 
==$pid== HEAP SUMMARY:
==$pid==     in use at exit: 38,432 bytes in 20 blocks
==$pid== 
_EOL_
}

sub end {
    my ($pid, $errors, $suppressed) = @_;
    return <<"_EOL_";
==$pid== LEAK SUMMARY:
==$pid==    definitely lost: 736 bytes in 3 blocks
==$pid== 
==$pid== For lists of detected and suppressed errors, rerun with: -s
==$pid== ERROR SUMMARY: $errors errors from $errors contexts (suppressed: $suppressed from $suppressed)
_EOL_
}

my $module_leak = <<'_EOL_';
==101== 1,896 (640 direct, 1,256 indirect) bytes in 1 blocks are definitely lost in loss record 7 of 12
==101==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==101==    by 0x154CFE: ngx_alloc (in /usr/sbin/nginx)
==101==    by 0x154D78: ngx_calloc (in /usr/sbin/nginx)
==101==    by 0x5475971: ngx_http_signalr_rest_token (ngx_http_signalr_endpoint.c:1003)
==101==    by 0x15B314: ngx_single_process_cycle (in /usr/sbin/nginx)
==101==    by 0x12D30F: main (in /usr/sbin/nginx)
==101== 
{
   <insert_a_suppression_name_here>
   Memcheck:Leak
   match-leak-kinds: definite
   fun:malloc
   fun:ngx_alloc
   fun:ngx_calloc
   fun:ngx_http_signalr_rest_token
   fun:ngx_single_process_cycle
   fun:main
}
_EOL_

# an invalid read in the module's shared object without symbols
my $module_read = <<'_EOL_';
==101== Invalid read of size 1
==101==    at 0x5475971: ??? (in /work/build/ngx_http_signalr_module.so)
==101==    by 0x171A0F: ngx_http_core_content_phase (in /usr/sbin/nginx)
==101==  Address 0x0 is not stack'd, malloc'd or (recently) free'd
==101== 
_EOL_

my $nginx_leak = <<'_EOL_';
==101== 24 bytes in 1 blocks are definitely lost in loss record 1 of 9
==101==    at 0x48417B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==101==    by 0x154CFE: ngx_alloc (in /usr/sbin/nginx)
==101==    by 0x12E404: ngx_set_environment (in /usr/sbin/nginx)
==101==    by 0x15B287: ngx_single_process_cycle (in /usr/sbin/nginx)
==101==    by 0x12D30F: main (in /usr/sbin/nginx)
==101== 
_EOL_

my $test1 = "t/004-output.t TEST 1: broadcast\n";

my ($rc, $out);

($rc, $out) = check($test1 . start(101) . end(101, 0, 3));
is $rc, 0, 'a clean run passes';
like $out, qr/1 nginx runs under memcheck, 0 reports .*; 3 suppressed/,
    'and says how many ran and how many errors were suppressed';

($rc, $out) = check($test1 . start(101) . $module_leak . end(101, 1, 0));
is $rc, 1, 'a leak in the module fails';
like $out, qr/IN THE MODULE'S FRAMES, 1 time.*\n  in t\/004-output.t TEST 1: broadcast \(nginx 101\)/,
    'named with its test';
like $out, qr/ngx_http_signalr_rest_token \(ngx_http_signalr_endpoint.c:1003\)/,
    'with its stack';
like $out, qr/fun:ngx_http_signalr_rest_token/, 'and the suppression proposed';

($rc, $out) = check($test1 . start(101) . $module_read . end(101, 1, 0));
is $rc, 1, 'an invalid read in the module\'s .so without symbols fails';
like $out, qr/IN THE MODULE'S FRAMES/, 'as the module\'s';

($rc, $out) = check($test1 . start(101) . $nginx_leak . end(101, 1, 0));
is $rc, 1, 'a report in nginx\'s frames that is not suppressed fails';
like $out, qr/in nginx's or a library's frames, not suppressed/,
    'as nginx\'s';

($rc, $out) = check($test1 . start(101) . $module_leak . end(101, 1, 0)
    . "t/004-output.t TEST 2: again\n" . start(102)
    . ($module_leak =~ s/==101==/==102==/gr =~ s/1,896/2,014/r)
    . end(102, 1, 0));
like $out, qr/2 time.*\n.*TEST 1: broadcast \(nginx 101\)\n.*TEST 2: again \(nginx 102\)\n  the first:/,
    'the same report in two tests is printed once, with both';

($rc, $out) = check($test1 . start(101));
is $rc, 1, 'an nginx whose memcheck did not finish fails';
like $out, qr/did not finish.*nginx 101 of t\/004-output.t TEST 1/,
    'and says which';

($rc, $out) = check("t/007-binary-upgrade.t .. ok\n");
is $rc, 1, 'no nginx under memcheck fails';

($rc, $out) = check($test1 . start(101) . end(101, 0, 2)
    . "# t/004-output.t TEST 52 skipped under valgrind: timed\n");
is $rc, 0, 'a test skipped under valgrind does not fail';
like $out, qr/valgrind: t\/004-output.t TEST 52 skipped under valgrind: timed/,
    'it is shown';

open my $fh, '>', "$dir/bad.suppress" or die $!;
print $fh "# a comment may name ngx_http_signalr_ anything\n",
    "{\n   module\n   Memcheck:Leak\n   fun:malloc\n",
    "   fun:ngx_http_signalr_rest_token\n}\n",
    "{\n   wildcard\n   Memcheck:Leak\n   fun:malloc\n   ...\n}\n";
close $fh;
($rc, $out) = check($test1 . start(101) . end(101, 0, 0),
    '--suppressions', "$dir/bad.suppress");
is $rc, 1, 'a suppression file that could hide the module fails';
like $out, qr/bad.suppress:6: .*ngx_http_signalr_rest_token/,
    'a frame of the module';
like $out, qr/bad.suppress:12: .*\.\.\./, 'a "..." wildcard';
unlike $out, qr/bad.suppress:1:/, 'comments aside';

($rc, $out) = check($test1 . start(101) . end(101, 0, 0),
    '--suppressions', 't/valgrind.suppress');
is $rc, 0, 't/valgrind.suppress cannot hide the module' or diag $out;

done_testing;
