import { configReadView, mergeConfig, type ClusterConfig } from '../../../lib/domain/index.js';
import { expectInvalid } from './helpers.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\nAAAA\n-----END CERTIFICATE-----';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
const host = 'https://192.168.99.100:8443';
const jwtConfig = () => mergeConfig('kubernetes', undefined, { kubernetes_host: host, kubernetes_ca_cert: CERT, service_account_jwt: JWT });
const eksConfig = () => mergeConfig('prod', undefined, { kubernetes_host: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', eks_cluster_name: 'prod', eks_region: 'eu-west-1' });

describe('mergeConfig', () => {
  test('JWT config (seed 001 sample + jwt)', () => {
    expect(jwtConfig()).toEqual({
      mount: 'kubernetes',
      kubernetes_host: host,
      kubernetes_ca_cert: `${CERT}\n`,
      disable_local_ca_jwt: false,
      auth: { kind: 'service_account_jwt', service_account_jwt: JWT },
    });
  });
  test('EKS config with role_arn', () => {
    const c = mergeConfig('prod', undefined, {
      kubernetes_host: 'https://x.eks.amazonaws.com/',
      eks_cluster_name: 'prod_1',
      eks_region: 'us-gov-west-1',
      role_arn: 'arn:aws:iam::123456789012:role/kubelease',
      disable_local_ca_jwt: 'true',
    });
    expect(c.auth).toEqual({ kind: 'eks', eks_cluster_name: 'prod_1', eks_region: 'us-gov-west-1', role_arn: 'arn:aws:iam::123456789012:role/kubelease' });
    expect(c.kubernetes_host).toBe('https://x.eks.amazonaws.com');
    expect(c.disable_local_ca_jwt).toBe(true);
  });
  test('external_id goes with role_arn (the AssumeRole it is sent with), and is read back', () => {
    const role_arn = 'arn:aws:iam::123456789012:role/kubelease';
    const c = mergeConfig('prod', eksConfig(), { role_arn, external_id: 'tenant-42:kubelease' });
    expect(c.auth).toEqual({ kind: 'eks', eks_cluster_name: 'prod', eks_region: 'eu-west-1', role_arn, external_id: 'tenant-42:kubelease' });
    expect(configReadView(c)).toMatchObject({ role_arn, external_id: 'tenant-42:kubelease' });
    expect(mergeConfig('prod', c, { external_id: '' }).auth).toEqual({ kind: 'eks', eks_cluster_name: 'prod', eks_region: 'eu-west-1', role_arn });
    expectInvalid(() => mergeConfig('prod', eksConfig(), { external_id: 'abc' }), 'external_id: only applies with role_arn');
    expect(mergeConfig('prod', c, { role_arn: '' }).auth).toEqual({ kind: 'eks', eks_cluster_name: 'prod', eks_region: 'eu-west-1' });
    expectInvalid(() => mergeConfig('prod', eksConfig(), { role_arn, external_id: 'x' }), 'external_id: must be 2-1224 characters');
    expectInvalid(() => mergeConfig('prod', eksConfig(), { role_arn, external_id: 'a b' }), 'external_id: must be 2-1224 characters');
    expectInvalid(() => mergeConfig('m', undefined, { kubernetes_host: host, service_account_jwt: JWT, external_id: 'abc' }), 'external_id: only applies to EKS auth');
    expect(configReadView(jwtConfig())).toMatchObject({ external_id: '' });
  });
  test('http only for loopback', () => {
    expect(mergeConfig('m', undefined, { kubernetes_host: 'http://127.0.0.1:6443', service_account_jwt: JWT }).kubernetes_host).toBe('http://127.0.0.1:6443');
    expect(mergeConfig('m', undefined, { kubernetes_host: 'http://localhost:6443', service_account_jwt: JWT }).kubernetes_host).toBe('http://localhost:6443');
    expectInvalid(() => mergeConfig('m', undefined, { kubernetes_host: 'http://10.0.0.1:6443', service_account_jwt: JWT }), 'kubernetes_host: "http://10.0.0.1:6443" must use https');
  });
  test('partial update keeps unset fields', () => {
    const c = mergeConfig('kubernetes', jwtConfig(), { kubernetes_host: 'https://new:443' });
    expect(c.auth).toEqual({ kind: 'service_account_jwt', service_account_jwt: JWT });
    expect(c.kubernetes_ca_cert).toBe(`${CERT}\n`);
    expect(c.kubernetes_host).toBe('https://new');
    expect(mergeConfig('kubernetes', jwtConfig(), { kubernetes_ca_cert: '' }).kubernetes_ca_cert).toBe('');
  });
  test('switching JWT → EKS requires clearing the JWT', () => {
    expectInvalid(() => mergeConfig('kubernetes', jwtConfig(), { eks_cluster_name: 'c', eks_region: 'eu-west-1' }), 'send "service_account_jwt": ""');
    const c = mergeConfig('kubernetes', jwtConfig(), { eks_cluster_name: 'c', eks_region: 'eu-west-1', service_account_jwt: '' });
    expect(c.auth.kind).toBe('eks');
  });
  test('switching EKS → JWT requires clearing eks_cluster_name; leftover region is dropped', () => {
    expectInvalid(() => mergeConfig('prod', eksConfig(), { service_account_jwt: JWT }), 'send "eks_cluster_name": ""');
    const c = mergeConfig('prod', eksConfig(), { service_account_jwt: JWT, eks_cluster_name: '' });
    expect(c.auth).toEqual({ kind: 'service_account_jwt', service_account_jwt: JWT });
  });
  test.each<[unknown, string[]]>([
    [{ service_account_jwt: JWT }, ['kubernetes_host: required']],
    [{ kubernetes_host: host }, ['service_account_jwt: one auth kind is required']],
    [{ kubernetes_host: 'not a url', service_account_jwt: JWT }, ['kubernetes_host: "not a url" is not a URL']],
    [{ kubernetes_host: 'https://u:p@h', service_account_jwt: JWT }, ['kubernetes_host: must not contain credentials']],
    [{ kubernetes_host: 'https://h?x=1', service_account_jwt: JWT }, ['kubernetes_host: must not contain a query']],
    [{ kubernetes_host: 'ftp://h', service_account_jwt: JWT }, ['kubernetes_host', 'must use https']],
    [{ kubernetes_host: host, service_account_jwt: 'abc' }, ['service_account_jwt: is not a JWT']],
    [{ kubernetes_host: host, service_account_jwt: JWT, kubernetes_ca_cert: 'garbage' }, ['kubernetes_ca_cert: must be one or more PEM certificates']],
    [{ kubernetes_host: host, service_account_jwt: JWT, kubernetes_ca_cert: `${CERT}\njunk` }, ['kubernetes_ca_cert: must be one or more PEM']],
    [{ kubernetes_host: host, service_account_jwt: JWT, kubernetes_ca_cert: '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----' }, ['kubernetes_ca_cert: certificate 1 is not valid base64']],
    [{ kubernetes_host: host, eks_cluster_name: 'c' }, ['eks_region: required with eks_cluster_name']],
    [{ kubernetes_host: host, eks_cluster_name: '-bad', eks_region: 'eu-west-1' }, ['eks_cluster_name: "-bad" is not a valid EKS cluster name']],
    [{ kubernetes_host: host, eks_cluster_name: 'c', eks_region: 'Europe' }, ['eks_region: "Europe" is not an AWS region']],
    [{ kubernetes_host: host, eks_cluster_name: 'c', eks_region: 'eu-west-1', role_arn: 'arn:aws:iam::123456789012:user/x' }, ['role_arn: ', 'is not an IAM role ARN']],
    [{ kubernetes_host: host, service_account_jwt: JWT, eks_cluster_name: 'c', eks_region: 'eu-west-1' }, ['set exactly one auth kind']],
    [{ kubernetes_host: host, service_account_jwt: JWT, eks_region: 'eu-west-1' }, ['eks_region: only applies to EKS auth']],
    [{ kubernetes_host: host, service_account_jwt: JWT, token: 'x' }, ['token: unknown field']],
    [{ kubernetes_host: 5, service_account_jwt: JWT }, ['kubernetes_host: expected a string, got number']],
    [{ kubernetes_host: host, service_account_jwt: JWT, disable_local_ca_jwt: 'nah' }, ['disable_local_ca_jwt: "nah" is not a boolean']],
    [[], ['config: expected a JSON object']],
  ])('%j is rejected', (body, fragments) => {
    expectInvalid(() => mergeConfig('kubernetes', undefined, body), ...fragments);
  });
  test('mount name is checked', () => {
    expectInvalid(() => mergeConfig('sys', undefined, { kubernetes_host: host, service_account_jwt: JWT }), 'mount: "sys" is reserved');
  });
});

describe('configReadView', () => {
  test('never shows the JWT; shows auth_kind', () => {
    const v = configReadView(jwtConfig());
    expect(JSON.stringify(v)).not.toContain(JWT);
    expect(v).toEqual({ kubernetes_host: host, kubernetes_ca_cert: `${CERT}\n`, disable_local_ca_jwt: false, auth_kind: 'service_account_jwt', eks_cluster_name: '', eks_region: '', role_arn: '', external_id: '' });
  });
  test('EKS', () => {
    const c: ClusterConfig = eksConfig();
    expect(configReadView(c)).toMatchObject({ auth_kind: 'eks', eks_cluster_name: 'prod', eks_region: 'eu-west-1', role_arn: '' });
  });
});
