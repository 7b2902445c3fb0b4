import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parentOf, statFields } from '../../../lib/local/testbed/signals.js';

test('parentOf reads the parent pid, also of a process whose name holds spaces and parentheses', async () => {
  expect(parentOf(process.pid)).toBe(process.ppid);
  // /proc/<pid>/stat names the process by the file it ran, in parentheses
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kubelease-parent-'));
  const oddName = path.join(dir, 'x) 1 (y');
  symlinkSync('/bin/sleep', oddName);
  const child = spawn(oddName, ['30'], { stdio: 'ignore' });
  try {
    await once(child, 'spawn');
    expect(readFileSync(`/proc/${child.pid}/stat`, 'utf8')).toContain('(x) 1 (y)');
    expect(parentOf(child.pid as number)).toBe(process.pid);
    expect(statFields(child.pid as number)?.[0]).toMatch(/^[RS]$/);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('parentOf is undefined for a pid that does not exist', () => {
  expect(parentOf(2 ** 22 + 1)).toBeUndefined();
});

test("statFields' utime and stime are this process's CPU time, in ticks of 10 ms", () => {
  const cpuMs = () => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  while (cpuMs() < 300); // CPU time (not wall time: a loaded machine may preempt us) well above a tick
  const fields = statFields(process.pid) as string[];
  const statMs = (Number(fields[11]) + Number(fields[12])) * 10;
  expect(Math.abs(statMs - cpuMs())).toBeLessThan(100);
  expect(statMs).toBeGreaterThanOrEqual(250);
});
