// exitmatrix's WASI runner and in-target view, on Node.js's node:wasi.
//
//   node --no-warnings runners/wasi.mjs [--report FILE] MODULE.wasm ARGS...
//
// WASI cannot start processes, so there is no agent inside the target: the
// closest a WASI "parent" gets is the embedding that ran the module. This
// script is that embedding. It instantiates the module with an empty
// environment and no preopened directories, calls `_start`, and then:
//
// - as a runner (no --report): exits with the module's exit code, or lets a
//   trap escape as an uncaught exception (Node then exits with 1: "Uncaught
//   Fatal Exception", Node.js docs, Process exit codes); what the Linux host
//   sees of that is the `host-via-runner` column;
// - with --report FILE: also writes what the embedding saw, in the agent's
//   line format (see agent/main.rs), and exits 0:
//
//     exitmatrix-agent 1 wasi
//     wasi-exit <code>           start() returned: the proc_exit code as Node gives it
//     trap <kind> <message...>   a WebAssembly.RuntimeError escaped start()
//     error <text>               the module could not be run
//     end
//
// References: WASI preview1 `proc_exit(rval: exitcode)` ("exitcode: u32");
// Node.js docs, `wasi.start(instance)` with `returnOnExit: true`: "WASI
// applications that call proc_exit() will return the exit code".
import { WASI } from 'node:wasi';
import fs from 'node:fs';

const argv = process.argv.slice(2);
let report = null;
if (argv[0] === '--report') {
  report = argv[1];
  argv.splice(0, 2);
}
if (argv.length < 1) {
  process.stderr.write('wasi.mjs: usage: wasi.mjs [--report FILE] MODULE.wasm ARGS...\n');
  process.exit(2);
}
const [module, ...args] = argv;

// The trap kinds the harness names (decode::Trap), from the V8 messages.
function trapKind(message) {
  const kinds = [
    ['unreachable', 'unreachable'],
    ['memory access out of bounds', 'memory-out-of-bounds'],
    ['Maximum call stack size exceeded', 'call-stack-exhausted'],
    ['divide by zero', 'integer-divide-by-zero'],
    ['integer overflow', 'integer-overflow'],
    ['invalid conversion to integer', 'invalid-conversion'],
    ['table index is out of bounds', 'table-out-of-bounds'],
    ['null function', 'indirect-call-to-null'],
    ['function signature mismatch', 'bad-signature'],
  ];
  for (const [needle, kind] of kinds) {
    if (message.includes(needle)) return kind;
  }
  return 'other';
}

function finish(line) {
  if (report !== null) {
    fs.writeFileSync(report, `exitmatrix-agent 1 wasi\n${line}\nend\n`);
  }
}

let instance;
const wasi = new WASI({ version: 'preview1', args: [module, ...args], env: {}, returnOnExit: true });
try {
  const wasm = await WebAssembly.compile(fs.readFileSync(module));
  instance = await WebAssembly.instantiate(wasm, wasi.getImportObject());
} catch (e) {
  finish(`error cannot load ${module}: ${String(e.message).replace(/\n/g, ' ')}`);
  throw e;
}
try {
  const code = wasi.start(instance);
  finish(`wasi-exit ${code}`);
  process.exitCode = report !== null ? 0 : code;
} catch (e) {
  const message = String(e && e.message).replace(/\n/g, ' ');
  if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError) {
    finish(`trap ${trapKind(message)} ${message}`);
  } else {
    finish(`error ${message}`);
  }
  if (report === null) throw e;
  process.exitCode = 0;
}
