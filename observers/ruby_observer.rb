# The Ruby parent of exitmatrix's `ruby` column
# (harness/src/observers/runtime.rs).
#
#     ruby --disable-gems ruby_observer.rb RESULT_FILE PROBE ARGS...
#
# starts PROBE ARGS... with Process.spawn in its [cmdname, argv0] form
# (never through a shell, whatever the words; standard streams inherited),
# as a Ruby program would, waits with Process.wait2, and writes what the
# Process::Status says to RESULT_FILE (in the working directory, the
# case's) as one line: exitstatus, termsig and coredump?, each as #inspect
# shows it (`3 nil false`). If the probe cannot be started it writes
# `error CLASS` (the SystemCallError's class, `Errno::ENOENT`) and exits
# with 3.
#
#     ruby --disable-gems ruby_observer.rb --serve
#
# serves cases instead, one per request, so that the interpreter starts
# once per worker rather than once per cell (see `serve` below).
def observe(*argv)
  result, program, *args = argv
  if program.nil?
    warn 'usage: ruby_observer.rb RESULT_FILE PROGRAM [ARGS...]'
    exit 2
  end
  begin
    pid = Process.spawn([program, program], *args)
  rescue SystemCallError => e
    # The program could not be started: the exception's class (Errno::ENOENT).
    warn "ruby_observer.rb: #{e.message}"
    File.write(result, "error #{e.class.name}\n")
    exit 3
  end
  _, status = Process.wait2(pid)
  File.write(result, [status.exitstatus, status.termsig, status.coredump?].map(&:inspect).join(' ') + "\n")
end

# Serves cases on standard input, one request a line, replies on standard
# output (harness/src/observers/parent.rs, `run_forked`, says the
# protocol): `case CORE DIR STDOUT STDERR WORD...` (every field but CORE
# in hex) forks a case process, replied with `pid N`; `reap` reaps it once
# it has ended, replied with `status N` (the raw wait status); `stop` ends
# the server. The case process is what `ruby --disable-gems
# ruby_observer.rb WORD...` started by the harness in DIR would be when it
# reaches `observe`: the same interpreter state (this script up to here,
# nothing else: the server's own objects do not reach the probe), standard
# input from /dev/null and output into the case's capture files, DIR as
# its working directory, a process group of its own, the case's core
# limit, the server's empty environment and signal state (the harness
# starts the server as it starts a parent), and no other descriptor (the
# server's pipes are closed, and every other one is close-on-exec).
def serve
  # A descriptor the harness leaked into this process by accident (one
  # opened without close-on-exec by another thread while it spawned the
  # server) would reach every probe; a fresh parent gets only 0, 1 and 2
  # from the harness. Ruby opens its own descriptors close-on-exec.
  Dir.children('/proc/self/fd').map(&:to_i).select { |fd| fd > 2 }.each do |fd|
    IO.for_fd(fd, autoclose: false).close_on_exec = true
  rescue SystemCallError, ArgumentError
    nil # the directory's own descriptor, closed by now
  end
  requests = STDIN.dup
  replies = STDOUT.dup
  replies.sync = true
  STDIN.reopen(File::NULL)
  # The server's own stray output goes where its errors go.
  STDOUT.reopen(STDERR)
  replies.puts 'ready'
  while (line = requests.gets)
    words = line.chomp.split(' ')
    case words[0]
    when 'stop'
      replies.puts 'stopped'
      exit 0
    when 'case'
      core = words[1] == '1'
      dir, out, err, *argv = words[2..].map { |w| [w].pack('H*') }
      pid = Process.fork
      if pid.nil?
        requests.close
        replies.close
        [[STDOUT, out], [STDERR, err]].each do |io, path|
          File.open(path, File::WRONLY) { |file| io.reopen(file) }
        end
        Process.setpgid(0, 0)
        Dir.chdir(dir)
        # As the harness sets it for every parent: the hard limit if the
        # case may dump core, else one byte (which dumps nothing).
        _, hard = Process.getrlimit(:CORE)
        soft = if core then hard elsif hard == Process::RLIM_INFINITY then 1 else [hard, 1].min end
        Process.setrlimit(:CORE, soft, hard)
        ARGV.replace(argv)
        observe(*argv)
        exit 0
      end
      begin
        Process.setpgid(pid, pid)
      rescue SystemCallError
        nil # the child has done it (EACCES once it has exec'd or run on)
      end
      replies.puts "pid #{pid}"
      abort 'serve: expected a reap request' unless requests.gets == "reap\n"
      _, status = Process.wait2(pid)
      replies.puts "status #{status.to_i}"
    else
      abort "serve: unexpected request #{line.inspect}"
    end
  end
end

if ARGV == ['--serve']
  serve
else
  observe(*ARGV)
end
