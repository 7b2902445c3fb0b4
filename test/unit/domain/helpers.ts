import { KubeleaseError, type ErrorKind } from '../../../lib/domain/index.js';

/** Run fn, assert it throws a KubeleaseError of `kind` whose messages contain every fragment. */
export function expectError(fn: () => unknown, kind: ErrorKind, ...fragments: string[]): KubeleaseError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error(`expected a ${kind} KubeleaseError, but nothing was thrown`);
  if (!(thrown instanceof KubeleaseError)) throw new Error(`expected a KubeleaseError, got ${String(thrown)}`);
  expect(thrown.kind).toBe(kind);
  for (const f of fragments) expect(thrown.message).toContain(f);
  return thrown;
}

export const expectInvalid = (fn: () => unknown, ...fragments: string[]) => expectError(fn, 'invalid', ...fragments);
