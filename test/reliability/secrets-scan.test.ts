/**
 * Item 5 of issue 14: the scan every reliability file runs (setup.ts fails the file on a hit) can
 * fail. A fresh collector is fed what a leak would look like in each place the suite watches: a
 * log line, an audit record, an EMF metric blob and an error body.
 */
import { Collector } from '../support/reliability/collector.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6IngifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENvalue0123456789';
const EKS_TOKEN = 'k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eQ';
const STORED_JWT = 'stored-broker-jwt-that-is-not-jwt-shaped-0123';

function fresh(): Collector {
  const c = new Collector();
  c.secret(SECRET_KEY, 'an AWS secret key');
  c.secret(SESSION_TOKEN, 'an AWS session token');
  c.secret(STORED_JWT, 'the stored JWT');
  return c;
}

test.each([
  ['a log line with an issued token', 'stdout', JSON.stringify({ level: 'INFO', message: 'issued', token: TOKEN }), 'JWT-shaped string'],
  ['an audit record with a secret key', 'stdout', JSON.stringify({ type: 'audit', principal: 'x', detail: `key=${SECRET_KEY}` }), 'an AWS secret key'],
  ['a metric dimension with a session token', 'stdout', JSON.stringify({ _aws: { CloudWatchMetrics: [{ Dimensions: [['Session']] }] }, Session: SESSION_TOKEN }), 'an AWS session token'],
  ['an error body with the stored JWT', 'error-body 502', JSON.stringify({ errors: [`cluster said: ${STORED_JWT}`] }), 'the stored JWT'],
  ['a child line with an EKS token', 'child', `GET /api with Authorization: Bearer ${EKS_TOKEN}`, 'EKS token'],
])('%s is a hit', (_what, source, line, label) => {
  const c = fresh();
  c.see(source, line);
  expect(c.hits).toHaveLength(1);
  expect(c.hits[0]).toContain(label);
  // the report shows where, never the value again
  expect(c.hits[0]).not.toContain(SECRET_KEY);
  expect(c.hits[0]).not.toContain(TOKEN);
});

test('clean lines are no hit, and are counted', () => {
  const c = fresh();
  c.see('stdout', `${JSON.stringify({ type: 'audit', lease_id: 'kubelease/creds/r/abc', _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'route']] }] } })}\nplain line\n`);
  expect(c.hits).toEqual([]);
  expect([c.lines, c.auditRecords, c.metricDimensions]).toEqual([2, 1, 2]);
});
