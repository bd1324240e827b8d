import { describe, expect, it } from 'vitest';
import type { LabelSelector, LabelSelectorRequirement } from '../../src/policy/model.js';
import { isEmptySelector, MATCH_EVERYTHING, requirementMatches, selectorLabelKeys, selectorMatches } from '../../src/policy/selectors.js';

const sel = (matchLabels: Record<string, string>, matchExpressions: LabelSelectorRequirement[] = []): LabelSelector => ({ matchLabels, matchExpressions });
const req = (key: string, operator: LabelSelectorRequirement['operator'], values: string[] = []): LabelSelectorRequirement => ({ key, operator, values });

const WEB = { app: 'web', tier: 'front' };

describe('requirementMatches', () => {
  const table: [LabelSelectorRequirement, Record<string, string>, boolean][] = [
    [req('app', 'In', ['web', 'api']), WEB, true],
    [req('app', 'In', ['api']), WEB, false],
    [req('missing', 'In', ['']), WEB, false],
    [req('app', 'NotIn', ['api']), WEB, true],
    [req('app', 'NotIn', ['web']), WEB, false],
    [req('missing', 'NotIn', ['web']), WEB, true],
    [req('tier', 'Exists'), WEB, true],
    [req('missing', 'Exists'), WEB, false],
    [req('missing', 'DoesNotExist'), WEB, true],
    [req('tier', 'DoesNotExist'), WEB, false],
    [req('empty', 'Exists'), { empty: '' }, true],
    [req('empty', 'In', ['']), { empty: '' }, true],
    // Inherited object properties are not labels.
    [req('toString', 'Exists'), {}, false],
    [req('constructor', 'DoesNotExist'), {}, true],
  ];
  it.each(table)('%o on %o → %s', (requirement, labels, expected) => {
    expect(requirementMatches(requirement, labels)).toBe(expected);
  });
});

describe('selectorMatches', () => {
  const table: [string, LabelSelector, Record<string, string>, boolean][] = [
    ['empty selector matches everything', MATCH_EVERYTHING, WEB, true],
    ['empty selector matches no labels', MATCH_EVERYTHING, {}, true],
    ['matchLabels subset', sel({ app: 'web' }), WEB, true],
    ['matchLabels all', sel(WEB), WEB, true],
    ['matchLabels wrong value', sel({ app: 'api' }), WEB, false],
    ['matchLabels missing key', sel({ zone: 'a' }), WEB, false],
    ['matchLabels empty value needs the key', sel({ zone: '' }), WEB, false],
    ['matchLabels AND expressions, both true', sel({ app: 'web' }, [req('tier', 'In', ['front'])]), WEB, true],
    ['matchLabels AND expressions, expression false', sel({ app: 'web' }, [req('tier', 'NotIn', ['front'])]), WEB, false],
    ['expressions AND each other', sel({}, [req('app', 'Exists'), req('zone', 'Exists')]), WEB, false],
    ['expressions only', sel({}, [req('zone', 'DoesNotExist'), req('app', 'In', ['web'])]), WEB, true],
  ];
  it.each(table)('%s', (_name, selector, labels, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});

describe('selectorLabelKeys and isEmptySelector', () => {
  it('lists each key a selector reads, sorted and unique', () => {
    expect(selectorLabelKeys(sel({ tier: 'x', app: 'y' }, [req('app', 'Exists'), req('zone', 'NotIn', ['a'])]))).toEqual(['app', 'tier', 'zone']);
    expect(selectorLabelKeys(MATCH_EVERYTHING)).toEqual([]);
  });

  it('knows the empty selector', () => {
    expect(isEmptySelector(MATCH_EVERYTHING)).toBe(true);
    expect(isEmptySelector(sel({ a: 'b' }))).toBe(false);
    expect(isEmptySelector(sel({}, [req('a', 'Exists')]))).toBe(false);
  });
});
