/**
 * Envelope encryption with AWS KMS: one GenerateDataKey (AES_256) per seal, bound to the
 * encryption context; the data key never leaves memory unencrypted. See envelope.ts for format.
 */
import { DecryptCommand, GenerateDataKeyCommand, KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import type { SecretBox } from '../../ports.js';
import { decryptPayload, encryptPayload, format, parse, sealError, DATA_KEY_BYTES } from './envelope.js';

/** The slice of KMSClient we use; tests inject a fake with the same shape. */
export interface KmsClientLike {
  send(command: GenerateDataKeyCommand | DecryptCommand): Promise<{ CiphertextBlob?: Uint8Array; Plaintext?: Uint8Array }>;
}

export interface KmsSecretBoxOptions {
  /** key id, ARN or alias (alias/...) of a symmetric KMS key */
  keyId: string;
  /** default: a KMSClient with the Lambda environment's region and credentials */
  client?: KmsClientLike;
  clientConfig?: KMSClientConfig;
}

const describe = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : 'unknown error');

export class KmsSecretBox implements SecretBox {
  private readonly client: KmsClientLike;
  private readonly keyId: string;

  constructor(options: KmsSecretBoxOptions) {
    if (!options.keyId) throw new Error('KmsSecretBox: keyId is required');
    this.keyId = options.keyId;
    this.client = options.client ?? (new KMSClient(options.clientConfig ?? {}) as KmsClientLike);
  }

  async seal(plaintext: string, context: Record<string, string>): Promise<string> {
    let out: { CiphertextBlob?: Uint8Array; Plaintext?: Uint8Array };
    try {
      out = await this.client.send(
        new GenerateDataKeyCommand({ KeyId: this.keyId, KeySpec: 'AES_256', EncryptionContext: { ...context } }),
      );
    } catch (e) {
      throw sealError(`KMS GenerateDataKey failed (${describe(e)})`, e);
    }
    const dataKey = out.Plaintext;
    if (!out.CiphertextBlob || !dataKey || dataKey.length !== DATA_KEY_BYTES) {
      throw sealError('KMS GenerateDataKey returned no usable data key');
    }
    try {
      return format({ encryptedKey: Buffer.from(out.CiphertextBlob), ...encryptPayload(dataKey, plaintext, context) });
    } finally {
      dataKey.fill(0);
    }
  }

  async open(ciphertext: string, context: Record<string, string>): Promise<string> {
    const env = parse(ciphertext);
    let out: { Plaintext?: Uint8Array };
    try {
      out = await this.client.send(
        new DecryptCommand({ KeyId: this.keyId, CiphertextBlob: env.encryptedKey, EncryptionContext: { ...context } }),
      );
    } catch (e) {
      throw sealError(`KMS Decrypt failed (${describe(e)})`, e);
    }
    const dataKey = out.Plaintext;
    if (!dataKey || dataKey.length !== DATA_KEY_BYTES) throw sealError('KMS Decrypt returned no usable data key');
    try {
      return decryptPayload(dataKey, env, context);
    } finally {
      dataKey.fill(0);
    }
  }
}
