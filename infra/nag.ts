import { Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** cdk-nag v3 acknowledgment (CDK policy validation); walks up the tree, so a role covers its policies. */
export function acknowledge(scope: Construct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}
