import { describe, expect, it } from 'vitest';
import { costKey } from '../../src/graphql/limits.js';

describe('costKey', () => {
  it('keeps the operation and the variables a cost can depend on (numbers, booleans, null), and leaves filters and cursors out', () => {
    expect(costKey('Page', { first: 25, after: 'abc.def', filter: { start: { lt: 1 } }, withStats: false, last: null })).toBe(
      'Page first=25 withStats=false last=null',
    );
    expect(costKey(undefined, { filter: { status: ['RUNNING'] } })).toBe(costKey(null, { filter: { status: ['FAILED'] } }));
    expect(costKey('Page', { first: 25 })).not.toBe(costKey('Page', { first: 1000 }));
  });
});
