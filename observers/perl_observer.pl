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
# gives $!, `ENOENT`) and exits with 3. (`--serve`: see `serve` below.)
use strict;
BEGIN { $^W = 1 }    # `use warnings` without loading it: see the end
sub observe {
my ($result, @command) = @_;
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
}

# Serves cases on standard input, one request a line, replies on standard
# output (harness/src/observers/parent.rs, `run_forked`, says the
# protocol): `case CORE DIR STDOUT STDERR WORD...` (every field but CORE
# in hex) forks a case process, replied with `pid N`; `reap` reaps it once
# it has ended, replied with `status N` (the raw wait status); `stop` ends
# the server. The case process is what `perl perl_observer.pl WORD...`
# started by the harness in DIR would be when it reaches `observe`: the
# same interpreter state (this script, compiled; the modules the server
# loads hold nothing the probe sees), standard input from /dev/null and
# output into the case's capture files, DIR as its working directory, a
# process group of its own, the case's core limit, the server's empty
# environment and signal state (the harness starts the server as it starts
# a parent), and no other descriptor (the server's pipes are closed, and
# every other one is close-on-exec).
sub serve {
    require POSIX;
    require Fcntl;
    # prlimit64(2), which core Perl has no call for; RLIMIT_CORE is 4 on
    # Linux (asm-generic/resource.h).
    require 'syscall.ph';
    my $prlimit = &SYS_prlimit64;
    # A descriptor the harness leaked into this process by accident (one
    # opened without close-on-exec by another thread while it spawned the
    # server) would reach every probe; a fresh parent gets only 0, 1 and 2
    # from the harness. Perl opens its own above 2 close-on-exec.
    opendir(my $fds, '/proc/self/fd') or die "serve: /proc/self/fd: $!\n";
    for my $fd (grep { /^\d+$/ && $_ > 2 } readdir $fds) {
        open(my $fh, '<&=', $fd) or next;
        fcntl($fh, Fcntl::F_SETFD(), Fcntl::FD_CLOEXEC());
    }
    closedir($fds);
    open(my $requests, '<&', \*STDIN) or die "serve: $!\n";
    open(my $replies, '>&', \*STDOUT) or die "serve: $!\n";
    open(STDIN, '<', '/dev/null') or die "serve: $!\n";
    # The server's own stray output goes where its errors go.
    open(STDOUT, '>&', \*STDERR) or die "serve: $!\n";
    select((select($replies), $| = 1)[0]);
    print $replies "ready\n";
    while (my $line = <$requests>) {
        chomp $line;
        my ($what, $core, @hex) = split / /, $line;
        if ($what eq 'stop') {
            print $replies "stopped\n";
            exit 0;
        }
        $what eq 'case' or die "serve: unexpected request $line\n";
        my ($dir, $out, $err, @argv) = map { pack 'H*', $_ } @hex;
        my $pid = fork;
        defined $pid or die "serve: fork: $!\n";
        if ($pid == 0) {
            close($requests);
            close($replies);
            open(STDOUT, '>', $out) or die "serve: $out: $!\n";
            open(STDERR, '>', $err) or die "serve: $err: $!\n";
            POSIX::setpgid(0, 0) or die "serve: setpgid: $!\n";
            chdir($dir) or die "serve: $dir: $!\n";
            # As the harness sets it for every parent: the hard limit if
            # the case may dump core, else one byte (which dumps nothing).
            my $old = "\0" x 16;
            syscall($prlimit, 0, 4, 0, $old) == 0 or die "serve: prlimit: $!\n";
            my (undef, $hard) = unpack('QQ', $old);
            my $soft = $core ? $hard : ($hard == ~0 ? 1 : ($hard < 1 ? $hard : 1));
            my $new = pack('QQ', $soft, $hard);
            syscall($prlimit, 0, 4, $new, 0) == 0 or die "serve: prlimit: $!\n";
            @ARGV = @argv;
            observe(@argv);
            exit 0;
        }
        # The child may have done it (EACCES once it has run on).
        POSIX::setpgid($pid, $pid);
        print $replies "pid $pid\n";
        my $reap = <$requests>;
        defined $reap && $reap eq "reap\n" or die "serve: expected a reap request\n";
        waitpid($pid, 0);
        print $replies "status ${^CHILD_ERROR_NATIVE}\n";
    }
}

if (@ARGV == 1 && $ARGV[0] eq '--serve') {
    serve();
} else {
    observe(@ARGV);
}

# The script is kept cheap to start, since one perl starts per cell: no
# module but strict is loaded on the way of a probe that runs. Warnings
# are on through `$^W` (perlvar: "The current value of the warning switch,
# initially true if -w was used"), which turns on the same warnings as
# `use warnings` for this file without loading warnings.pm; the one this
# script can meet, `system`'s "Can't exec" (perldiag, category exec), is
# printed the same either way. `%!` loads Errno where it is compiled
# (perlvar), so it is compiled, in a string eval, only when a probe could
# not be started. `system` stays on line 21 (so `observe` is not
# indented): its "Can't exec" warning names the line, and a spawn-failure
# cell's standard error holds it.
