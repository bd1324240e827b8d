#!/usr/bin/env bash
# The test command: type check and lint, then every vitest suite. Ends with the line CI reads,
# `N passed, N failed[, N skipped]`, counted from vitest's JSON report (plus one failure per failed check).
set -uo pipefail
cd "$(dirname "$0")/.."

report=build/vitest-report.json
mkdir -p build
rm -f "$report"
check_failures=0

echo "== type check and lint"
npx tsc -p tsconfig.json --noEmit || check_failures=$((check_failures + 1))
npx eslint . || check_failures=$((check_failures + 1))
node scripts/gen-abi.mjs --check || check_failures=$((check_failures + 1))

echo "== vitest"
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
vitest_status=$?

node - "$report" "$check_failures" "$vitest_status" <<'JS'
const fs = require('node:fs');
const [report, checkFailures, vitestStatus] = process.argv.slice(2);
let passed = 0, failed = Number(checkFailures), skipped = 0;
if (fs.existsSync(report)) {
  const r = JSON.parse(fs.readFileSync(report, 'utf8'));
  passed = r.numPassedTests;
  skipped = r.numPendingTests + r.numTodoTests;
  failed += r.numFailedTests;
  // A suite that fails to load has no tests to count: count it as one failure.
  for (const s of r.testResults) if (s.status === 'failed' && s.assertionResults.length === 0) failed += 1;
} else {
  failed += 1;
}
if (failed === 0 && Number(vitestStatus) !== 0) failed = 1;
console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
process.exit(failed === 0 ? 0 : 1);
JS
