/**
 * The fixtures unit tests share, defined once: callers of the in-memory deployment (account
 * 111111111111), a JWT-shaped secret to look for in outputs, and a lease builder.
 * (Bed-backed tests take theirs from test/support/engine.ts: account 123456789012.)
 */
import type { Caller } from '../../lib/engine/deps.js';
import type { Lease } from '../../lib/domain/types.js';

/** the in-memory deployment's admin (settings.adminPrincipals) */
export const FAKE_ADMIN: Caller = { arn: 'arn:aws:iam::111111111111:user/admin' };
/** the IAM role CI runs as, and one CI run's assumed-role session of it */
export const FAKE_CI_ROLE = 'arn:aws:iam::111111111111:role/ci';
export const FAKE_CI: Caller = { arn: 'arn:aws:sts::111111111111:assumed-role/ci/run-1' };
/** a JWT-shaped service account token */
export const FAKE_JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

/** A pending lease `<mount>/creds/<role>/<id>` of a generated ServiceAccount, mount m1, role ci by default. */
export function leaseFixture(id: string, over: Partial<Lease> = {}): Lease {
  const mount = over.mount ?? 'm1';
  const role = over.role ?? 'ci';
  return {
    lease_id: `${mount}/creds/${role}/${id}`,
    lease_hash: id,
    mount,
    role,
    namespace: 'default',
    caller_arn: 'arn:aws:iam::123456789012:role/ci',
    status: 'pending',
    issued_at: 1000,
    expires_at: 2000,
    service_account_name: `kl-ci-${id}`,
    plan: {
      objects: [{ kind: 'ServiceAccount', namespace: 'default', name: `kl-ci-${id}` }],
      token: { serviceAccount: { namespace: 'default', name: `kl-ci-${id}` }, audiences: [], expirationSeconds: 600 },
    },
    ...over,
  };
}
