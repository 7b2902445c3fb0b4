/** Runs fn over items with at most `limit` in flight, starting no new item once time is up. */
export async function forEachBounded<T>(
  items: T[],
  limit: number,
  timeLeft: () => boolean,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && timeLeft()) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
