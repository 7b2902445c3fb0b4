import { formatDuration, parseTtl } from '../../../lib/domain/index.js';
import { expectInvalid } from './helpers.js';

describe('parseTtl', () => {
  test.each<[unknown, number]>([
    [undefined, 0],
    [null, 0],
    ['', 0],
    [0, 0],
    ['0', 0],
    ['0s', 0],
    [3600, 3600],
    ['3600', 3600],
    [' 90 ', 90],
    ['90s', 90],
    ['1h', 3600],
    ['24h', 86400],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['2m30s', 150],
    ['2000ms', 2],
    ['1h0m0s', 3600],
    ['+10m', 600],
    ['7d', 604800],
    ['.5m', 30],
  ])('%p → %p seconds', (input, seconds) => {
    expect(parseTtl(input, 'token_max_ttl')).toBe(seconds);
  });

  test.each<[unknown, string]>([
    [-1, 'must not be negative'],
    ['-1h', 'must not be negative'],
    [1.5, 'whole number of seconds'],
    ['300ms', 'whole number of seconds'],
    ['1.5s', 'whole number of seconds'],
    ['abc', 'not a valid duration'],
    ['1x', 'not a valid duration'],
    ['1h1', 'not a valid duration'],
    ['h', 'not a valid duration'],
    ['1.h', ''],
    [true, 'expected seconds or a Go duration'],
    [{}, 'expected seconds or a Go duration'],
    [[1], 'expected seconds or a Go duration'],
    [Number.NaN, 'not a valid duration'],
    [Infinity, 'not a valid duration'],
    ['99999999999999', 'too large'],
    ['100000h', 'too large'],
  ])('%p is rejected (%s)', (input, fragment) => {
    if (input === '1.h') {
      // Go accepts "1.h" as 1h
      expect(parseTtl(input, 'ttl')).toBe(3600);
      return;
    }
    expectInvalid(() => parseTtl(input, 'token_max_ttl'), 'token_max_ttl: ', fragment);
  });

  test('the field name is the one passed in', () => {
    expectInvalid(() => parseTtl('nope', 'ttl'), 'ttl: "nope"');
  });
});

describe('formatDuration (Go style)', () => {
  test.each([
    [0, '0s'],
    [45, '45s'],
    [600, '10m0s'],
    [3600, '1h0m0s'],
    [5405, '1h30m5s'],
    [86400, '24h0m0s'],
    [172800, '48h0m0s'],
  ])('%p → %p', (s, text) => expect(formatDuration(s)).toBe(text));
});
