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
result, program, *args = ARGV
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
