// The Java parent of exitmatrix's `java` column (harness/src/observers/java.rs).
//
//     java -cp CLASSES JavaObserver RESULT_FILE PROBE ARGS...
//
// starts PROBE ARGS... with ProcessBuilder, as a Java program would, and
// writes what Process.waitFor() returns to RESULT_FILE (in the working
// directory, the case's), as a decimal line. The probe inherits the JVM's
// standard streams and environment. Anything that goes wrong (a probe that
// cannot be started, say) leaves no file and ends the JVM with an uncaught
// exception, which the harness reports as the parent's own ending.
//
// Compiled once per run by the harness with the system javac; no package,
// no dependencies beyond java.base.

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

public final class JavaObserver {
    private JavaObserver() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: JavaObserver RESULT_FILE PROGRAM [ARGS...]");
            System.exit(2);
        }
        Path result = Path.of(args[0]);
        List<String> command = Arrays.asList(args).subList(1, args.length);
        Process process = new ProcessBuilder(command).inheritIO().start();
        int value = process.waitFor();
        Files.writeString(result, value + "\n", StandardCharsets.UTF_8);
    }
}
