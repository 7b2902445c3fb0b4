/**
 * SigV4 for API Gateway (`execute-api`) with the AWS default credential chain, as the AWS CLI
 * signs: environment, SSO, shared config/credentials files, web identity, container and
 * instance metadata. Loaded only when a request is made (never on the exec plugin's cache hit).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { CliError } from '../core/errors.js';

type CredentialProvider = ReturnType<typeof fromNodeProviderChain>;
type Credentials = Awaited<ReturnType<CredentialProvider>>;

export interface SignInput {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
  signingDate?: Date;
}

export class Signer {
  private readonly provider: CredentialProvider;
  private credentials?: Promise<Credentials>;

  constructor(
    private readonly region: string,
    profile?: string,
  ) {
    this.provider = fromNodeProviderChain(profile ? { profile } : {});
  }

  private resolveCredentials(): Promise<Credentials> {
    this.credentials ??= this.provider().catch((e: unknown) => {
      throw credentialsError(e);
    });
    return this.credentials;
  }

  /** Headers to send, including `host`, `x-amz-date`, `authorization` and the session token. */
  async sign(i: SignInput): Promise<Record<string, string>> {
    const signer = new SignatureV4({ credentials: await this.resolveCredentials(), region: this.region, service: 'execute-api', sha256: Sha256 });
    const query: Record<string, string | string[]> = {};
    for (const k of new Set(i.url.searchParams.keys())) {
      const all = i.url.searchParams.getAll(k);
      query[k] = all.length === 1 ? all[0]! : all;
    }
    const request = new HttpRequest({
      method: i.method,
      protocol: i.url.protocol,
      hostname: i.url.hostname,
      ...(i.url.port ? { port: Number(i.url.port) } : {}),
      path: i.url.pathname,
      query,
      headers: { ...i.headers, host: i.url.host },
      ...(i.body !== undefined ? { body: i.body } : {}),
    });
    const signed = await signer.sign(request, i.signingDate ? { signingDate: i.signingDate } : {});
    return signed.headers;
  }
}

function credentialsError(e: unknown): CliError {
  const msg = e instanceof Error ? e.message : String(e);
  if (/could not load credentials from any providers/i.test(msg)) {
    return new CliError(
      'no AWS credentials found (tried environment, SSO, shared config and credentials files, web identity, container and instance metadata)',
      1,
      'set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with an IAM role (in CI: aws-actions/configure-aws-credentials)',
    );
  }
  return new CliError(`cannot get AWS credentials: ${msg}`, 1, 'check your AWS profile or credentials (aws sts get-caller-identity shows which identity you have)');
}
