// Prints vitest's JSON results (one file or several, summed) as one plain
// closing line: "vitest: N passed, N failed, N skipped". A missing file is a failure.
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2);
if (files.length === 0) files.push('.test-results.json');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8'));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    console.log(`(${file}: ${r.numPassedTests} tests passed and ${r.numFailedTests} failed)`);
  } catch (e) {
    console.log(`no results in ${file} (${e.message})`);
    process.exitCode = 1;
  }
}
console.log(`vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`);
