import { describe, expect, it } from 'vitest';
import { comparePositions, compareValues, levelsAfter, reverseSort } from '../../src/pagination/keyset.js';
import type { SppSort } from '../../src/spp-api/types.js';

describe('compareValues', () => {
  it('orders nulls first, numbers and digit strings numerically, other strings by code unit', () => {
    expect(compareValues(null, 0)).toBe(-1);
    expect(compareValues(5, null)).toBe(1);
    expect(compareValues('9', '10')).toBe(-1);
    expect(compareValues(10, '9')).toBe(1);
    expect(compareValues('10', 10)).toBe(0);
    expect(compareValues('Maintenance', 'vmware_Gold')).toBe(-1);
    expect(compareValues('b', 'a')).toBe(1);
  });

  it('orders numeric strings before other strings, so the order stays total (property-test seed 309910122)', () => {
    // By text "10_daily" < "9", by number "9" < "10": mixing both would make a cycle.
    expect([compareValues('9', '10'), compareValues('10', '10_daily'), compareValues('9', '10_daily')]).toEqual([-1, -1, -1]);
    expect(compareValues('Sauvegarde_été', '2024')).toBe(1);
  });
});

describe('comparePositions', () => {
  const sort: SppSort[] = [
    { property: 'status', direction: 'ASC' },
    { property: 'start', direction: 'DESC' },
    { property: 'id', direction: 'DESC' },
  ];
  it('compares key by key, honouring each direction, then the id', () => {
    expect(comparePositions({ keys: ['COMPLETED', 5], id: '1' }, { keys: ['FAILED', 1], id: '1' }, sort)).toBeLessThan(0);
    expect(comparePositions({ keys: ['FAILED', 5], id: '1' }, { keys: ['FAILED', 1], id: '1' }, sort)).toBeLessThan(0);
    expect(comparePositions({ keys: ['FAILED', 5], id: '2' }, { keys: ['FAILED', 5], id: '1' }, sort)).toBeLessThan(0);
    expect(comparePositions({ keys: ['FAILED', 5], id: '2' }, { keys: ['FAILED', 5], id: '2' }, sort)).toBe(0);
  });
});

describe('reverseSort', () => {
  it('flips every direction and keeps the keys in order', () => {
    expect(
      reverseSort([
        { property: 'start', direction: 'DESC' },
        { property: 'id', direction: 'ASC' },
      ]),
    ).toEqual([
      { property: 'start', direction: 'ASC' },
      { property: 'id', direction: 'DESC' },
    ]);
  });
});

describe('levelsAfter', () => {
  it('splits the lexicographic condition into AND-only levels, most specific first', () => {
    const sort: SppSort[] = [
      { property: 'start', direction: 'DESC' },
      { property: 'id', direction: 'DESC' },
    ];
    expect(levelsAfter({ keys: [100], id: '7' }, sort)).toEqual([
      [
        { property: 'start', value: 100, op: '=' },
        { property: 'id', value: '7', op: '<' },
      ],
      [{ property: 'start', value: 100, op: '<' }],
    ]);
  });

  it('gives nulls of a nullable key their own level: after a value in descending order come the nulls', () => {
    const sort: SppSort[] = [
      { property: 'end', direction: 'DESC' },
      { property: 'id', direction: 'ASC' },
    ];
    expect(levelsAfter({ keys: [100], id: '7' }, sort, false, (p) => p === 'end')).toEqual([
      [
        { property: 'end', value: 100, op: '=' },
        { property: 'id', value: '7', op: '>' },
      ],
      [{ property: 'end', value: 100, op: '<' }],
      [{ property: 'end', value: null, op: '=' }],
    ]);
    // A key the list description does not mark nullable has no null level.
    expect(levelsAfter({ keys: [100], id: '7' }, sort)).toHaveLength(2);
  });

  it('after a null in ascending order come all non-null values; in descending order nothing but equal nulls', () => {
    const asc: SppSort[] = [
      { property: 'end', direction: 'ASC' },
      { property: 'id', direction: 'ASC' },
    ];
    expect(levelsAfter({ keys: [null], id: '7' }, asc)).toEqual([
      [
        { property: 'end', value: null, op: '=' },
        { property: 'id', value: '7', op: '>' },
      ],
      [{ property: 'end', value: -1, op: '>' }],
    ]);
    const desc: SppSort[] = [
      { property: 'end', direction: 'DESC' },
      { property: 'id', direction: 'DESC' },
    ];
    expect(levelsAfter({ keys: [null], id: '7' }, desc)).toEqual([
      [
        { property: 'end', value: null, op: '=' },
        { property: 'id', value: '7', op: '<' },
      ],
    ]);
  });
});

describe('levelsAfter with inclusive', () => {
  it('includes the position itself by comparing the id level with >= or <=', () => {
    const sort: SppSort[] = [
      { property: 'start', direction: 'ASC' },
      { property: 'id', direction: 'ASC' },
    ];
    expect(levelsAfter({ keys: [100], id: '7' }, sort, true)).toEqual([
      [
        { property: 'start', value: 100, op: '=' },
        { property: 'id', value: '7', op: '>=' },
      ],
      [{ property: 'start', value: 100, op: '>' }],
    ]);
  });
});
