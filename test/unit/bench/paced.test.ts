import { paced } from '../../bench/support/report.js';

test('paced starts each task on its schedule, without waiting for the ones before it, and ends with the last', async () => {
  const startedAt: number[] = [];
  const t0 = performance.now();
  const { wallMs } = await paced(5, 50, async (i) => {
    startedAt[i] = performance.now() - t0;
    // each task outlasts the gap between starts: an open loop does not wait for it
    await new Promise((r) => setTimeout(r, 100));
  });
  // starts due at 0, 20, 40, 60 and 80 ms; timers never fire early
  startedAt.forEach((at, i) => expect(at).toBeGreaterThanOrEqual(i * 20 - 1));
  expect(startedAt[4]).toBeLessThan(300); // due at 80 ms; one after another it would start at 400 ms or later
  expect(wallMs).toBeGreaterThanOrEqual(80 + 100 - 1);
});
