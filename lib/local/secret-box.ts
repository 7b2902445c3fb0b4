/**
 * SecretBox for the local stack and tests: same sealed format as KmsSecretBox, but the data key
 * is wrapped (AES-256-GCM, context as AAD) with a 32-byte local key instead of by KMS. Local
 * only: the local stack passes it to depsFromEnv, so no Lambda bundle carries it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretBox } from '../ports.js';
import { DATA_KEY_BYTES, decryptPayload, encryptPayload, format, parse, unwrapKey, wrapKey } from '../adapters/kms/envelope.js';

/** Key file content: 32 raw bytes, or their base64 / hex text (whitespace ignored). */
export function parseKeyFile(content: Buffer): Buffer {
  if (content.length === DATA_KEY_BYTES) return Buffer.from(content);
  const text = content.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  const b = Buffer.from(text, 'base64');
  if (b.length === DATA_KEY_BYTES && /^[A-Za-z0-9+/]+=*$/.test(text)) return b;
  throw new Error('local key file must hold 32 bytes (raw, hex or base64)');
}

export class LocalSecretBox implements SecretBox {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== DATA_KEY_BYTES) throw new Error('LocalSecretBox: key must be 32 bytes');
    this.key = Buffer.from(key);
  }

  static fromFile(path: string): LocalSecretBox {
    return new LocalSecretBox(parseKeyFile(readFileSync(path)));
  }

  /** Reads the key file, creating it (base64, mode 0600) with a random key when missing. */
  static fromFileOrCreate(path: string): LocalSecretBox {
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      try {
        writeFileSync(path, `${randomBytes(DATA_KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        // another process created it first: use theirs
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    return LocalSecretBox.fromFile(path);
  }

  async seal(plaintext: string, context: Record<string, string>): Promise<string> {
    const dataKey = randomBytes(DATA_KEY_BYTES);
    try {
      return format({ encryptedKey: wrapKey(this.key, dataKey, context), ...encryptPayload(dataKey, plaintext, context) });
    } finally {
      dataKey.fill(0);
    }
  }

  async open(ciphertext: string, context: Record<string, string>): Promise<string> {
    const env = parse(ciphertext);
    const dataKey = unwrapKey(this.key, env.encryptedKey, context);
    try {
      return decryptPayload(dataKey, env, context);
    } finally {
      dataKey.fill(0);
    }
  }
}
