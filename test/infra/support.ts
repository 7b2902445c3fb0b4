/**
 * Synthesis helpers for the infra tests: the same feature flags as `cdk synth`, no bundling
 * (`aws:cdk:bundling-stacks: []`, so a template takes seconds), cdk-nag registered as in
 * infra/app.ts (Template.fromStack throws on any unacknowledged finding).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KubeleaseBroker, type BrokerFunction, type KubeleaseBrokerProps } from '../../infra/broker.js';
import { KubeleaseStack, type KubeleaseStackProps } from '../../infra/stack.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation JSON is untyped */
export type Json = any;

export const ROOT = new URL('../../', import.meta.url);
export const cdkContext = (JSON.parse(readFileSync(new URL('cdk.json', ROOT), 'utf8')) as { context: Record<string, unknown> }).context;
export const ADMIN = 'arn:aws:iam::111111111111:role/platform-admin';
export const ENV = { account: '111111111111', region: 'eu-west-1' };

export interface Built {
  stack: Stack;
  template: Template;
  resources: Record<string, Json>;
  outputs: Record<string, Json>;
  broker: KubeleaseBroker;
}

export function newApp(context: Record<string, unknown> = {}): App {
  const app = new App({ context: { ...cdkContext, 'aws:cdk:bundling-stacks': [], ...context } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return app;
}

function finish(stack: Stack, broker: KubeleaseBroker): Built {
  const template = Template.fromStack(stack); // runs the cdk-nag plugin: throws on any finding
  const json = template.toJSON() as { Resources: Record<string, Json>; Outputs: Record<string, Json> };
  return { stack, template, resources: json.Resources, outputs: json.Outputs ?? {}, broker };
}

/** The broker in a KubeleaseStack (the `cdk deploy` path). */
export function buildStack(broker: Partial<KubeleaseStackProps['broker']> = {}, extra: Omit<KubeleaseStackProps, 'broker' | 'env'> = {}, context: Record<string, unknown> = {}): Built {
  const app = newApp(context);
  const stack = new KubeleaseStack(app, 'Kubelease', { env: ENV, broker: { adminPrincipals: [ADMIN], ...broker }, ...extra });
  return finish(stack, stack.broker);
}

/** The broker in a plain stack, with whatever the test creates beside it (topics, VPCs, keys). */
export function buildConstruct(props: (stack: Stack) => Partial<KubeleaseBrokerProps>): Built {
  const app = newApp();
  const stack = new Stack(app, 'Host', { env: ENV });
  const broker = new KubeleaseBroker(stack, 'Broker', { adminPrincipals: [ADMIN], ...props(stack) });
  return finish(stack, broker);
}

export const ofType = (b: Built, type: string): [string, Json][] => Object.entries(b.resources).filter(([, r]) => r.Type === type);
export const only = <T>(xs: T[]): T => {
  expect(xs).toHaveLength(1);
  return xs[0] as T;
};
export const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
export const logicalIdOf = (b: Built, pathPart: string, type: string): string =>
  only(ofType(b, type).filter(([id]) => id.startsWith(`Broker${pathPart}`)))[0];
export const fnId = (b: Built, fn: BrokerFunction) => logicalIdOf(b, `${cap(fn)}Function`, 'AWS::Lambda::Function');
export const fnProps = (b: Built, fn: BrokerFunction) => b.resources[fnId(b, fn)].Properties;
export const tableId = (b: Built, id: 'Config' | 'Roles' | 'Leases') => logicalIdOf(b, `${id}Table`, 'AWS::DynamoDB::GlobalTable');
export const arr = <T>(x: T | T[] | undefined): T[] => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
export const outputOf = (b: Built, name: string) => only(Object.entries(b.outputs).filter(([k]) => k.startsWith(`Broker${name}`)))[1];
export const alarmsOf = (b: Built): Record<string, Json> =>
  Object.fromEntries(ofType(b, 'AWS::CloudWatch::Alarm').map(([id, a]) => [id.replace(/^Broker/, '').replace(/[0-9A-F]{8}$/, ''), a.Properties]));

export interface Grant {
  actions: string[];
  resources: Json[];
  conditions?: Json;
}
/** All Allow statements attached to a role (inline policies of AWS::IAM::Policy resources). */
export function grantsOf(b: Built, roleId: string): Grant[] {
  return ofType(b, 'AWS::IAM::Policy')
    .filter(([, p]) => arr<Json>(p.Properties.Roles).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[])
    .filter((s) => s.Effect === 'Allow')
    .map((s) => ({ actions: arr<string>(s.Action), resources: arr<Json>(s.Resource), ...(s.Condition ? { conditions: s.Condition } : {}) }));
}
export const roleOfFn = (b: Built, fn: BrokerFunction): string => fnProps(b, fn).Role['Fn::GetAtt'][0];
/** Actions a role has on exactly this resource expression (deep-equal), sorted. */
export function actionsOn(b: Built, roleId: string, resource: Json): string[] {
  const key = JSON.stringify(resource);
  return [...new Set(grantsOf(b, roleId).flatMap((g) => (g.resources.some((r) => JSON.stringify(r) === key) ? g.actions : [])))].sort();
}
export const tableArn = (b: Built, id: 'Config' | 'Roles' | 'Leases') => ({ 'Fn::GetAtt': [tableId(b, id), 'Arn'] });
export const indexArn = (b: Built, name: string) => ({ 'Fn::Join': ['', [tableArn(b, 'Leases'), `/index/${name}`]] });

/** The functions of a stack synthesized with bundling on, each with the folder its bundle was written to. */
export function bundledFunctions(b: Built): { description: string; handler: string; asset: string }[] {
  const outdir = (b.stack.node.root as App).outdir;
  return ofType(b, 'AWS::Lambda::Function').map(([, r]: [string, Json]) => ({
    description: r.Properties.Description as string,
    handler: r.Properties.Handler as string,
    asset: join(outdir, `asset.${(r.Properties.Code.S3Key as string).replace(/\.zip$/, '')}`),
  }));
}

/** `kubelease <fn>`'s bundle among them. */
export function bundleOf(functions: { description: string; asset: string }[], fn: string): string {
  const f = functions.find((x) => x.description === `kubelease ${fn}`);
  if (!f) throw new Error(`no function ${fn}`);
  return join(f.asset, 'index.mjs');
}

/** Whether a bundle holds the X-Ray SDK, or the module that stands in for the tracer left out (infra/bundling.ts). */
export const tracerIn = (code: string) => ({ xray: code.includes('AWS_XRAY_CONTEXT_MISSING'), leftOut: code.includes('this bundle was built without the X-Ray tracer') });
