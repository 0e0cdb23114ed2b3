// Prints vitest's JSON results (one file or several, summed) as plain closing
// lines: first every failed file and test with its message (CI shows the end
// of the output, so the reason must be there, not 2,000 lines up), then
// "vitest: N passed, N failed, N skipped". A file that failed outside any
// test (a beforeAll, an import) counts as failed: its tests only show as
// skipped, and vitest's JSON leaves its error out, so `--log FILE` (the
// run's console output) gives back vitest's own "Failed Suites" and
// "Failed Tests" sections. A missing file is a failure, and so is any
// failure: exit 1.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const args = process.argv.slice(2);
const logs = [];
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--log') logs.push(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0) files.push('.test-results.json');
let passed = 0;
let failed = 0;
let failedFiles = 0;
let skipped = 0;
const firstLines = (s, n = 12) => String(s ?? '').split('\n').slice(0, n).map((l) => `    ${l}`).join('\n');
for (const file of files) {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    for (const t of r.testResults ?? []) {
      if (t.status !== 'failed') continue;
      failedFiles += 1;
      console.log(`FAILED ${relative(process.cwd(), t.name)}`);
      if (t.message) console.log(firstLines(t.message));
      for (const a of t.assertionResults ?? []) {
        if (a.status === 'failed') console.log(`  ✗ ${a.fullName ?? a.title}\n${firstLines((a.failureMessages ?? []).join('\n'), 8)}`);
      }
    }
    console.log(`(${file}: ${r.numPassedTests} tests passed and ${r.numFailedTests} failed; ${r.numFailedTestSuites ?? 0} file(s) failed)`);
  } catch (e) {
    console.log(`no results in ${file} (${e.message})`);
    process.exitCode = 1;
  }
}
// vitest's own report of what failed, from each console log: its "Failed Suites" and "Failed Tests" sections.
for (const log of logs) {
  if (!existsSync(log)) continue;
  const lines = readFileSync(log, 'utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split('\n');
  let keep = false;
  const out = [];
  for (const l of lines) {
    if (/^⎯+ Failed (Suites|Tests) \d+ ⎯+$/.test(l.trim())) keep = true;
    else if (/^⎯+ Unhandled Errors? ⎯+$/.test(l.trim()) || /^\s*Test Files\s/.test(l)) keep = false;
    if (keep) out.push(l);
  }
  if (out.length) console.log(`what vitest reported failing in ${log}:\n${out.slice(0, 80).join('\n')}${out.length > 80 ? `\n... (${out.length - 80} more lines in ${log})` : ''}`);
}
console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped${failedFiles ? `; ${failedFiles} file(s) failed` : ''}`);
if (failed > 0 || failedFiles > 0) process.exitCode = 1;
