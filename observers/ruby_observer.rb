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
# shows it (`3 nil false`). If the probe cannot be started the exception
# ends Ruby with status 1 and no file, which the harness reports as the
# parent's own ending.
result, program, *args = ARGV
if program.nil?
  warn 'usage: ruby_observer.rb RESULT_FILE PROGRAM [ARGS...]'
  exit 2
end
pid = Process.spawn([program, program], *args)
_, status = Process.wait2(pid)
File.write(result, [status.exitstatus, status.termsig, status.coredump?].map(&:inspect).join(' ') + "\n")
