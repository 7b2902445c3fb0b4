// setupFilesAfterEnv of the jest `reliability` project: every file's output is collected and
// scanned for secrets (see collector.ts); its counts go to the suite summary.
import path from 'node:path';
import { collector } from './collector.js';
import { recordSummary } from './summary.js';

collector.install();

afterAll(() => {
  const file = path.basename(expect.getState().testPath ?? 'unknown');
  recordSummary(`secrets scan ${file}`, {
    lines: collector.lines,
    bytes: collector.bytes,
    auditRecords: collector.auditRecords,
    metricDimensions: collector.metricDimensions,
    errorBodies: collector.errorBodies,
    knownSecrets: collector.secretCount,
    hits: collector.hits.length,
  });
  // lines written after the file's last test (shutdown logs) are held to the same rule
  if (collector.hits.length > 0) throw new Error(`secrets leaked:\n${collector.hits.slice(0, 20).join('\n')}`);
});
