import { isKubeleaseError, type KubeleaseError } from '../../lib/domain/index.js';

/** Awaits a promise that must fail with a KubeleaseError and returns that error. */
export async function failure(p: Promise<unknown>): Promise<KubeleaseError> {
  try {
    await p;
  } catch (e) {
    if (isKubeleaseError(e)) return e;
    throw e;
  }
  throw new Error('expected a KubeleaseError, but the call succeeded');
}
