/** Issue 10, item 8: the Lambdas refuse to start with admin principals that are not IAM ARN patterns. */
import { settingsFromEnv } from '../../../lib/lambda/runtime.js';

describe('settingsFromEnv (cold start)', () => {
  test.each(['*', 'arn:aws:iam::123456789012:role/admin,*', 'arn:aws:iam::*:root', 'admin'])('KUBELEASE_ADMIN_PRINCIPALS=%j is refused', (value) => {
    expect(() => settingsFromEnv({ KUBELEASE_ADMIN_PRINCIPALS: value })).toThrow(/KUBELEASE_ADMIN_PRINCIPALS/);
  });

  test('valid ARNs and patterns are kept', () => {
    const s = settingsFromEnv({ KUBELEASE_ADMIN_PRINCIPALS: 'arn:aws:iam::123456789012:role/platform-admin, arn:aws:iam::123456789012:role/sre-*' });
    expect(s.adminPrincipals).toEqual(['arn:aws:iam::123456789012:role/platform-admin', 'arn:aws:iam::123456789012:role/sre-*']);
    expect(settingsFromEnv({}).adminPrincipals).toEqual([]);
  });
});
