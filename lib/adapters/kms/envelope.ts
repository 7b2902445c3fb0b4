/**
 * The sealed-secret format shared by KmsSecretBox and LocalSecretBox:
 *
 *   v1:<b64 encrypted data key>:<b64 iv>:<b64 tag>:<b64 ciphertext>
 *
 * The payload is AES-256-GCM under a fresh 256-bit data key with a random 12-byte IV; the
 * encryption context (canonical JSON, keys sorted) is the GCM additional authenticated data,
 * so a sealed value only opens under the context it was sealed with, even if whoever unwraps
 * the data key (KMS, or the local key) did not check it. Error messages never carry plaintext.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KubeleaseError } from '../../domain/errors.js';

export const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface Envelope {
  encryptedKey: Buffer;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** Canonical form of an encryption context: sorted keys, JSON. */
export function canonicalContext(context: Record<string, string>): string {
  const sorted = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return JSON.stringify(sorted);
}

const aad = (context: Record<string, string>) => Buffer.from(`${VERSION}|${canonicalContext(context)}`, 'utf8');

export function sealError(message: string, cause?: unknown): KubeleaseError {
  return new KubeleaseError('upstream', `sealed secret: ${message}`, { cause });
}

export function encryptPayload(
  dataKey: Uint8Array,
  plaintext: string,
  context: Record<string, string>,
): Omit<Envelope, 'encryptedKey'> {
  if (dataKey.length !== KEY_BYTES) throw sealError('data key must be 32 bytes');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

export function decryptPayload(dataKey: Uint8Array, env: Envelope, context: Record<string, string>): string {
  if (dataKey.length !== KEY_BYTES) throw sealError('data key must be 32 bytes');
  try {
    const decipher = createDecipheriv('aes-256-gcm', dataKey, env.iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(context));
    decipher.setAuthTag(env.tag);
    return Buffer.concat([decipher.update(env.ciphertext), decipher.final()]).toString('utf8');
  } catch {
    // node's message ("unable to authenticate data") carries no data; keep ours generic anyway
    throw sealError('integrity check failed (wrong context or tampered data)');
  }
}

export function format(env: Envelope): string {
  return [VERSION, env.encryptedKey, env.iv, env.tag, env.ciphertext]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64')))
    .join(':');
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A stored value that is not a sealed secret at all (edited in the console): the item is broken, not a dependency. */
const formatError = (message: string) => new KubeleaseError('unprocessable', `sealed secret: ${message}`);

export function parse(sealed: string): Envelope {
  const parts = sealed.split(':');
  if (parts.length !== 5 || parts[0] !== VERSION) throw formatError(`unsupported format (expected ${VERSION}:...)`);
  const [, k, iv, tag, ct] = parts as [string, string, string, string, string];
  for (const p of [k, iv, tag, ct]) if (!B64.test(p)) throw formatError('malformed base64');
  const env: Envelope = {
    encryptedKey: Buffer.from(k, 'base64'),
    iv: Buffer.from(iv, 'base64'),
    tag: Buffer.from(tag, 'base64'),
    ciphertext: Buffer.from(ct, 'base64'),
  };
  if (env.encryptedKey.length === 0) throw formatError('missing data key');
  if (env.iv.length !== IV_BYTES) throw formatError('bad iv length');
  if (env.tag.length !== TAG_BYTES) throw formatError('bad tag length');
  return env;
}

/** AES-256-GCM key wrap used by LocalSecretBox: iv(12) || tag(16) || wrapped key(32). */
export function wrapKey(kek: Uint8Array, dataKey: Uint8Array, context: Record<string, string>): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(context));
  const wrapped = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), wrapped]);
}

export function unwrapKey(kek: Uint8Array, blob: Buffer, context: Record<string, string>): Buffer {
  if (blob.length !== IV_BYTES + TAG_BYTES + KEY_BYTES) throw sealError('bad data key length');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, blob.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(context));
    decipher.setAuthTag(blob.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(blob.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw sealError('data key could not be unwrapped (wrong key or context, or tampered data)');
  }
}

export const DATA_KEY_BYTES = KEY_BYTES;
