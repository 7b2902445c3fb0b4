import { formatSelector, isEmptySelector, matchesSelector, parseSelector, type LabelSelector } from '../../../lib/domain/index.js';
import { expectInvalid } from './helpers.js';

const F = 'allowed_kubernetes_namespace_selector';

describe('parseSelector', () => {
  test('seed 001 sample payload 4: YAML', () => {
    expect(parseSelector('matchLabels:\n  stage: prod\n  sa-generator: vault')).toEqual({
      matchLabels: { stage: 'prod', 'sa-generator': 'vault' },
    });
  });
  test("seed 001 sample payload 4/5: single-quoted pseudo-JSON with Vault's stray leading quote", () => {
    expect(parseSelector("'{'matchLabels':{'stage':'prod','sa-generator':'vault'}}")).toEqual({
      matchLabels: { stage: 'prod', 'sa-generator': 'vault' },
    });
  });
  test('JSON', () => {
    expect(parseSelector('{"matchExpressions":[{"key":"tier","operator":"In","values":["a","b"]}]}')).toEqual({
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }],
    });
  });
  test('all operators parse; Exists/DoesNotExist carry no values', () => {
    const s = parseSelector(
      'matchExpressions:\n- {key: a, operator: In, values: [x]}\n- {key: b, operator: NotIn, values: [y]}\n- {key: c, operator: Exists}\n- {key: d, operator: DoesNotExist, values: []}',
    )!;
    expect(s.matchExpressions).toEqual([
      { key: 'a', operator: 'In', values: ['x'] },
      { key: 'b', operator: 'NotIn', values: ['y'] },
      { key: 'c', operator: 'Exists' },
      { key: 'd', operator: 'DoesNotExist' },
    ]);
  });
  test('"" and whitespace mean unset', () => {
    expect(parseSelector('')).toBeUndefined();
    expect(parseSelector('  \n')).toBeUndefined();
  });

  test.each<[string, string[]]>([
    ['{}', ['selector is empty', 'allowed_kubernetes_namespaces to "*"']],
    ['matchLabels: {}', ['selector is empty']],
    ['[1,2]', ['expected a LabelSelector object', 'array']],
    ['just a string', ['expected a LabelSelector object', 'string']],
    ['{matchLabels: {a: b}, extra: 1}', ['unknown key "extra"']],
    ['matchLabels: [a]', ['matchLabels must be a map']],
    ['matchLabels: {"bad key!": x}', ['label key "bad key!"']],
    ['matchLabels: {a: "-x"}', ['matchLabels.a', 'not a valid label value']],
    ['matchLabels: {a: 1}', ['matchLabels.a', 'quote it']],
    ['matchExpressions: {}', ['matchExpressions must be a list']],
    ['matchExpressions: [x]', ['matchExpressions[0]', 'expected an object']],
    ['matchExpressions: [{key: a, operator: Has}]', ['matchExpressions[0].operator', 'not one of In, NotIn, Exists, DoesNotExist']],
    ['matchExpressions: [{key: a, operator: In}]', ['matchExpressions[0].values', 'In needs at least one value']],
    ['matchExpressions: [{key: a, operator: NotIn, values: []}]', ['NotIn needs at least one value']],
    ['matchExpressions: [{key: a, operator: Exists, values: [x]}]', ['Exists takes no values']],
    ['matchExpressions: [{key: a, operator: DoesNotExist, values: [x]}]', ['DoesNotExist takes no values']],
    ['matchExpressions: [{operator: Exists}]', ['matchExpressions[0].key', 'required']],
    ['matchExpressions: [{key: a, operator: In, values: [x], other: 1}]', ['unknown key "other"']],
    ['matchExpressions: [{key: a, operator: In, values: ["a b"]}]', ['values[0]', 'not a valid label value']],
    ['{a: [', ['neither valid JSON nor YAML']],
    ['a: 1\na: 2', ['neither valid JSON nor YAML']],
  ])('%p is rejected', (text, fragments) => {
    expectInvalid(() => parseSelector(text), `${F}: `, ...fragments);
  });

  test('YAML alias bombs are bounded', () => {
    const bomb = 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]';
    expectInvalid(() => parseSelector(bomb), F, 'alias');
  });
});

describe('matchesSelector', () => {
  const labels = { stage: 'prod', team: 'a', legacy: 'yes' };
  test.each<[LabelSelector, boolean]>([
    [{}, true],
    [{ matchLabels: { stage: 'prod' } }, true],
    [{ matchLabels: { stage: 'prod', team: 'a' } }, true],
    [{ matchLabels: { stage: 'dev' } }, false],
    [{ matchLabels: { missing: 'x' } }, false],
    [{ matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] }, true],
    [{ matchExpressions: [{ key: 'team', operator: 'In', values: ['b'] }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'In', values: ['a'] }] }, false],
    [{ matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['b'] }] }, true],
    [{ matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['a'] }] }, true],
    [{ matchExpressions: [{ key: 'legacy', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'missing', operator: 'Exists' }] }, false],
    [{ matchExpressions: [{ key: 'missing', operator: 'DoesNotExist' }] }, true],
    [{ matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' }] }, false],
    [{ matchLabels: { stage: 'prod' }, matchExpressions: [{ key: 'legacy', operator: 'DoesNotExist' }] }, false],
  ])('%j → %p', (selector, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });
  test('inherited properties are not labels', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {})).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'constructor', operator: 'DoesNotExist' }] }, {})).toBe(true);
  });
  test('isEmptySelector / formatSelector', () => {
    expect(isEmptySelector({})).toBe(true);
    expect(isEmptySelector({ matchLabels: { a: 'b' } })).toBe(false);
    expect(
      formatSelector({
        matchLabels: { stage: 'prod' },
        matchExpressions: [
          { key: 't', operator: 'In', values: ['a', 'b'] },
          { key: 'u', operator: 'NotIn', values: ['c'] },
          { key: 'v', operator: 'Exists' },
          { key: 'w', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('stage=prod,t in (a,b),u notin (c),v,!w');
  });
});
