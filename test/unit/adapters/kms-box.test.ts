import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenerateDataKeyCommand, type DecryptCommand } from '@aws-sdk/client-kms';
import { KubeleaseError } from '../../../lib/domain/errors.js';
import { KmsSecretBox, type KmsClientLike } from '../../../lib/adapters/kms/kms-box.js';
import { LocalSecretBox } from '../../../lib/local/secret-box.js';
import type { SecretBox } from '../../../lib/ports.js';

const KEY_ID = 'arn:aws:kms:us-east-1:123456789012:key/test';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZWxlYXNlIn0.c2lnbmF0dXJl';

class KmsError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** A fake of the KMS port: wraps data keys with a local master key, binding the context as AAD. */
class FakeKms implements KmsClientLike {
  readonly master = randomBytes(32);
  readonly calls: string[] = [];
  async send(command: GenerateDataKeyCommand | DecryptCommand) {
    const ctx = JSON.stringify(Object.entries(command.input.EncryptionContext ?? {}).sort());
    if (command.input.KeyId !== KEY_ID) throw new KmsError('NotFoundException', 'no such key');
    if (command instanceof GenerateDataKeyCommand) {
      this.calls.push('GenerateDataKey');
      if (command.input.KeySpec !== 'AES_256') throw new KmsError('ValidationException', 'KeySpec');
      if (!command.input.EncryptionContext || Object.keys(command.input.EncryptionContext).length === 0) {
        throw new KmsError('ValidationException', 'test requires an encryption context');
      }
      const key = randomBytes(32);
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', this.master, iv);
      c.setAAD(Buffer.from(ctx));
      const blob = Buffer.concat([iv, c.update(key), c.final(), c.getAuthTag()]);
      return { Plaintext: new Uint8Array(key), CiphertextBlob: new Uint8Array(blob) };
    }
    this.calls.push('Decrypt');
    const blob = Buffer.from(command.input.CiphertextBlob ?? new Uint8Array());
    try {
      const d = createDecipheriv('aes-256-gcm', this.master, blob.subarray(0, 12));
      d.setAAD(Buffer.from(ctx));
      d.setAuthTag(blob.subarray(blob.length - 16));
      const key = Buffer.concat([d.update(blob.subarray(12, blob.length - 16)), d.final()]);
      return { Plaintext: new Uint8Array(key) };
    } catch {
      throw new KmsError('InvalidCiphertextException', 'The ciphertext refers to a customer master key that does not exist, or the context does not match');
    }
  }
}

/** flips one bit in one base64 field of the sealed string */
function tamper(sealed: string, field: 1 | 2 | 3 | 4): string {
  const parts = sealed.split(':');
  const buf = Buffer.from(parts[field]!, 'base64');
  buf[buf.length - 1]! ^= 0x01;
  parts[field] = buf.toString('base64');
  return parts.join(':');
}

async function expectSealError(p: Promise<unknown>, ...mustNotContain: string[]) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(KubeleaseError);
  const text = `${String((err as Error).message)} ${JSON.stringify(err)}`;
  for (const s of mustNotContain) expect(text).not.toContain(s);
}

function contract(name: string, make: () => { box: SecretBox; other: SecretBox }) {
  describe(`${name} (SecretBox contract)`, () => {
    const ctx = { mount: 'prod-eu' };

    test('round trip, versioned format, fresh IV and data key per seal', async () => {
      const { box } = make();
      const a = await box.seal(JWT, ctx);
      const b = await box.seal(JWT, ctx);
      expect(a).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
      expect(a).not.toBe(b);
      expect(Buffer.from(a.split(':')[2]!, 'base64')).toHaveLength(12);
      expect(Buffer.from(a.split(':')[3]!, 'base64')).toHaveLength(16);
      expect(await box.open(a, ctx)).toBe(JWT);
      expect(await box.open(b, { mount: 'prod-eu' })).toBe(JWT);
      expect(await box.open(await box.seal('', ctx), ctx)).toBe('');
      const unicode = 'ünïcødé ✓ '.repeat(200);
      expect(await box.open(await box.seal(unicode, ctx), ctx)).toBe(unicode);
    });

    test('the sealed string does not contain the plaintext in any encoding', async () => {
      const { box } = make();
      const sealed = await box.seal(JWT, ctx);
      for (const enc of ['utf8', 'base64', 'base64url', 'hex'] as const) {
        const s = Buffer.from(JWT).toString(enc);
        expect(sealed).not.toContain(s.slice(0, 16));
      }
      expect(sealed).not.toContain('eyJ');
    });

    test('a different or extra context does not open it', async () => {
      const { box } = make();
      const sealed = await box.seal(JWT, ctx);
      await expectSealError(box.open(sealed, { mount: 'prod-us' }), JWT);
      await expectSealError(box.open(sealed, { ...ctx, extra: 'x' }), JWT);
      await expectSealError(box.open(sealed, {}), JWT);
    });

    test('tampering with any part fails the integrity check', async () => {
      const { box } = make();
      const sealed = await box.seal(JWT, ctx);
      for (const field of [1, 2, 3, 4] as const) await expectSealError(box.open(tamper(sealed, field), ctx), JWT);
      // truncated ciphertext, swapped payloads between two seals
      const parts = sealed.split(':');
      await expectSealError(box.open([...parts.slice(0, 4), parts[4]!.slice(0, 8)].join(':'), ctx), JWT);
      const other = (await box.seal('another secret', ctx)).split(':');
      await expectSealError(box.open([...parts.slice(0, 4), other[4]!].join(':'), ctx), JWT);
    });

    test('a box with a different key cannot open it', async () => {
      const { box, other } = make();
      await expectSealError(other.open(await box.seal(JWT, ctx), ctx), JWT);
    });

    test('malformed input is refused with a KubeleaseError', async () => {
      const { box } = make();
      for (const bad of ['', 'v1', 'v2:a:b:c:d', 'v1:!!:AAAA:AAAA:AAAA', JWT]) await expectSealError(box.open(bad, ctx), JWT);
    });
  });
}

contract('KmsSecretBox', () => {
  const kms = new FakeKms();
  return { box: new KmsSecretBox({ keyId: KEY_ID, client: kms }), other: new KmsSecretBox({ keyId: KEY_ID, client: new FakeKms() }) };
});

contract('LocalSecretBox', () => ({ box: new LocalSecretBox(randomBytes(32)), other: new LocalSecretBox(randomBytes(32)) }));

describe('KmsSecretBox specifics', () => {
  test('calls GenerateDataKey to seal and Decrypt to open, with the context', async () => {
    const kms = new FakeKms();
    const seen: Record<string, string>[] = [];
    const spy: KmsClientLike = {
      send: (cmd) => {
        seen.push({ ...(cmd.input.EncryptionContext ?? {}) });
        return kms.send(cmd);
      },
    };
    const box = new KmsSecretBox({ keyId: KEY_ID, client: spy });
    const sealed = await box.seal(JWT, { mount: 'a' });
    await box.open(sealed, { mount: 'a' });
    expect(kms.calls).toEqual(['GenerateDataKey', 'Decrypt']);
    expect(seen).toEqual([{ mount: 'a' }, { mount: 'a' }]);
  });

  test('KMS failures surface as upstream errors naming the operation, never the plaintext', async () => {
    const failing: KmsClientLike = {
      send: async () => {
        throw new KmsError('AccessDeniedException', 'not allowed to use key');
      },
    };
    const box = new KmsSecretBox({ keyId: KEY_ID, client: failing });
    const err = await box.seal(JWT, { mount: 'a' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeleaseError);
    expect((err as KubeleaseError).kind).toBe('upstream');
    expect((err as Error).message).toContain('GenerateDataKey');
    expect((err as Error).message).not.toContain(JWT);
  });

  test('a data key of the wrong size is refused', async () => {
    const box = new KmsSecretBox({
      keyId: KEY_ID,
      client: { send: async () => ({ Plaintext: new Uint8Array(16), CiphertextBlob: new Uint8Array(8) }) },
    });
    await expectSealError(box.seal(JWT, { mount: 'a' }), JWT);
  });
});

describe('LocalSecretBox key files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kl-box-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('fromFileOrCreate creates a 0600 key file once and reuses it', async () => {
    const file = join(dir, 'nested', 'key');
    const a = LocalSecretBox.fromFileOrCreate(file);
    const content = readFileSync(file, 'utf8');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const b = LocalSecretBox.fromFileOrCreate(file);
    expect(readFileSync(file, 'utf8')).toBe(content);
    expect(await b.open(await a.seal(JWT, { mount: 'm' }), { mount: 'm' })).toBe(JWT);
  });

  test('fromFile accepts raw, hex and base64 keys and rejects other sizes', async () => {
    const key = randomBytes(32);
    const sealed = await new LocalSecretBox(key).seal(JWT, { mount: 'm' });
    for (const [name, content] of [
      ['raw', key],
      ['hex', Buffer.from(`${key.toString('hex')}\n`)],
      ['b64', Buffer.from(key.toString('base64'))],
    ] as const) {
      writeFileSync(join(dir, name), content);
      expect(await LocalSecretBox.fromFile(join(dir, name)).open(sealed, { mount: 'm' })).toBe(JWT);
    }
    writeFileSync(join(dir, 'short'), randomBytes(16).toString('base64'));
    expect(() => LocalSecretBox.fromFile(join(dir, 'short'))).toThrow(/32 bytes/);
    expect(() => new LocalSecretBox(randomBytes(31))).toThrow(/32 bytes/);
  });
});
