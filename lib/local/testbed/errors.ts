/** One line saying what went wrong and what to do; `detail` (log tails) follows on later lines. */
export class BedError extends Error {
  /** `portTaken`: a child found a port it was given busy; a start on new ports may succeed */
  constructor(readonly summary: string, readonly detail = '', readonly portTaken = false) {
    super(detail ? `${summary}\n${detail}` : summary);
    this.name = 'BedError';
  }
}
