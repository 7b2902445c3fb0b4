import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { isLabelValue, leaseHash, newLeaseId, parseLeaseId, parseLeaseRequest } from '../../../lib/domain/index.js';
import { expectInvalid } from './helpers.js';

const R24 = 'aWczfcfJ7NKUdiirJrPXIs38';

test('lease ids look like Vault\'s', () => {
  expect(newLeaseId('kubernetes', 'default-role', () => R24)).toBe('kubernetes/creds/default-role/aWczfcfJ7NKUdiirJrPXIs38');
  expect(() => newLeaseId('k', 'r', () => 'short')).toThrow(/24 characters/);
});

test('parseLeaseId', () => {
  expect(parseLeaseId(`prod/creds/ci@team.x/${R24}`)).toEqual({ mount: 'prod', role: 'ci@team.x', suffix: R24 });
  for (const bad of ['', 'x', `prod/roles/r/${R24}`, `sys/creds/r/${R24}`, 'prod/creds/r/short', `prod/creds/a/b/${R24}`, 42]) {
    expectInvalid(() => parseLeaseId(bad), 'lease_id: ');
  }
});

test('parseLeaseRequest: the lookup/revoke body, Vault\'s increment and sync accepted and dropped', () => {
  const id = `prod/creds/ci/${R24}`;
  expect(parseLeaseRequest({ lease_id: id, increment: 60, sync: true })).toEqual({ lease_id: id });
  expectInvalid(() => parseLeaseRequest(null), 'lease_id: required (JSON body {"lease_id": "..."})');
  expectInvalid(() => parseLeaseRequest({ lease_id: id, ttl: 1 }), 'ttl: unknown field');
  expectInvalid(() => parseLeaseRequest({}), 'lease_id: required');
  expectInvalid(() => parseLeaseRequest({ lease_id: '' }), 'lease_id: required');
  expectInvalid(() => parseLeaseRequest({ lease_id: 'prod/creds/ci/short' }), 'lease_id: "prod/creds/ci/short" is not a kubelease lease id');
});

test('leaseHash: 20 hex chars of sha256, label-safe, stable', () => {
  const id = `kubernetes/creds/default-role/${R24}`;
  const h = leaseHash(id);
  expect(h).toBe(createHash('sha256').update(id).digest('hex').slice(0, 20));
  expect(h).toMatch(/^[0-9a-f]{20}$/);
  expect(isLabelValue(h)).toBe(true);
  expect(leaseHash(`${id}x`)).not.toBe(h);
});

test('leaseHash is the SHA-256 of the id (known vectors, UTF-8)', () => {
  expect(leaseHash('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'.slice(0, 20));
  expect(leaseHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'.slice(0, 20));
  for (const s of ['a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), 'a'.repeat(1000), 'ünïcødé ✓ 𝄞']) {
    expect(leaseHash(s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex').slice(0, 20));
  }
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
      expect(leaseHash(s)).toMatch(/^[0-9a-f]{20}$/);
    }),
  );
});
