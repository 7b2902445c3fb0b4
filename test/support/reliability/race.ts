/**
 * Starts several operations at the same instant (after one shared tick, so none gets a head
 * start from being created first) and waits for all of them, failures included.
 */
export async function race<T extends readonly (() => Promise<unknown>)[]>(
  ...ops: T
): Promise<{ [K in keyof T]: PromiseSettledResult<Awaited<ReturnType<T[K]>>> }> {
  let go!: () => void;
  const gate = new Promise<void>((resolve) => (go = resolve));
  const running = ops.map((op) => gate.then(op));
  go();
  return (await Promise.allSettled(running)) as never;
}

/** The value of a fulfilled result, or the failure rethrown (for readable test failures). */
export function valueOf<T>(r: PromiseSettledResult<T>): T {
  if (r.status === 'rejected') throw r.reason;
  return r.value;
}

/** Polls until `cond` holds (no fixed sleeps), failing after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
