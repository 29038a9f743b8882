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

  it('keeps the number of distinct values of a list variable: a cost per server read differs by the servers named, not by their names', () => {
    expect(costKey('Page', { servers: ['a', 'b'] })).toBe('Page servers=#2');
    expect(costKey('Page', { servers: ['a', 'a'] })).toBe(costKey('Page', { servers: ['c'] }));
    expect(costKey('Page', { servers: ['a', 'b'] })).not.toBe(costKey('Page', { servers: ['a'] }));
  });
});
