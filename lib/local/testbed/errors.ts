/** One line saying what went wrong and what to do; `detail` (log tails) follows on later lines. */
export class BedError extends Error {
  constructor(readonly summary: string, readonly detail = '') {
    super(detail ? `${summary}\n${detail}` : summary);
    this.name = 'BedError';
  }
}
