// The Node.js parent of exitmatrix's `node` column
// (harness/src/observers/runtime.rs).
//
//     node node_observer.js RESULT_FILE PROBE ARGS...
//
// starts PROBE ARGS... with child_process.spawnSync (no shell, standard
// streams inherited), as a Node.js program would, and writes the `status`
// and `signal` fields of what it returns to RESULT_FILE (in the working
// directory, the case's) as one line of JSON: {"status":3,"signal":null}.
// If spawnSync reports an error (the probe could not be started), it writes
// `error CODE` (the error's `code`, `ENOENT`) and exits with 3.
'use strict';
const { spawnSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');

const [result, program, ...args] = process.argv.slice(2);
if (program === undefined) {
  process.stderr.write('usage: node_observer.js RESULT_FILE PROGRAM [ARGS...]\n');
  process.exit(2);
}
const child = spawnSync(program, args, { stdio: 'inherit' });
if (child.error) {
  // The program could not be started: the error's `code` (`ENOENT`), as
  // `error CODE` (the spawn-failure own cases).
  process.stderr.write(`node_observer.js: ${child.error.message}\n`);
  writeFileSync(result, `error ${child.error.code}\n`);
  process.exit(3);
}
writeFileSync(result, JSON.stringify({ status: child.status, signal: child.signal }) + '\n');
