# The Perl parent of exitmatrix's `perl` column
# (harness/src/observers/runtime.rs).
#
#     perl perl_observer.pl RESULT_FILE PROBE ARGS...
#
# runs PROBE ARGS... with `system` in its indirect-object form (never through
# a shell, whatever the words), as a Perl program would, and writes `$?` and
# the three values perlfunc's `system` and perlvar's `$?` read from it,
# `$? >> 8`, `$? & 127` and `$? & 128`, to RESULT_FILE (in the working
# directory, the case's) as one line of four decimal numbers. If `system`
# cannot start the probe (`$?` is -1) it writes `error NAME` (the name %!
# gives $!, `ENOENT`) and exits with 3.
use strict;
BEGIN { $^W = 1 }    # `use warnings` without loading it: see the end

my ($result, @command) = @ARGV;
if (!@command) {
    print STDERR "usage: perl_observer.pl RESULT_FILE PROGRAM [ARGS...]\n";
    exit 2;
}
system { $command[0] } @command;
my $status = $?;
if ($status == -1) {
    # perlfunc system: -1 is "a failure to start the program" ($! says
    # why); %! names it (perlvar: $!{ENOENT} is true if $! is ENOENT).
    my $errno = $! + 0;
    my $name = eval q{
        local $! = $errno;
        my ($name) = grep { $!{$_} } sort keys %!;
        $name;
    };
    $! = $errno;
    print STDERR "perl_observer.pl: cannot run $command[0]: $!\n";
    open(my $err, '>', $result) or die "cannot write $result: $!\n";
    printf $err "error %s\n", $name // 'unknown';
    close($err) or die "cannot write $result: $!\n";
    exit 3;
}
open(my $out, '>', $result) or die "cannot write $result: $!\n";
printf $out "%d %d %d %d\n", $status, $status >> 8, $status & 127, $status & 128;
close($out) or die "cannot write $result: $!\n";

# The script is kept cheap to start, since one perl starts per cell: no
# module but strict is loaded on the way of a probe that runs. Warnings
# are on through `$^W` (perlvar: "The current value of the warning switch,
# initially true if -w was used"), which turns on the same warnings as
# `use warnings` for this file without loading warnings.pm; the one this
# script can meet, `system`'s "Can't exec" (perldiag, category exec), is
# printed the same either way. `%!` loads Errno where it is compiled
# (perlvar), so it is compiled, in a string eval, only when a probe could
# not be started. `system` stays on line 21: its "Can't exec" warning
# names the line, and a spawn-failure cell's standard error holds it.
