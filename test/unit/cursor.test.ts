import { describe, expect, it } from 'vitest';
import { type GraphQLError } from 'graphql';
import { CursorCodec, queryFingerprint } from '../../src/pagination/cursor.js';

const codec = new CursorCodec(Buffer.from('a test secret of enough length'));
const print = queryFingerprint({ filter: [], sort: [{ property: 'start', direction: 'DESC' }] });
const position = { offset: 42, keys: [1577881234123], id: '1564688656142' };

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return (error as GraphQLError).extensions?.code;
  }
  return 'no error';
}

describe('CursorCodec', () => {
  it('reads back what it wrote', () => {
    const cursor = codec.encode(print, position);
    expect(codec.decode(print, cursor, 'after')).toEqual(position);
    expect(codec.decode(print, codec.encode(print, { offset: null, keys: [null, 'x'], id: '1' }), 'before')).toEqual({
      offset: null,
      keys: [null, 'x'],
      id: '1',
    });
  });

  it('does not show offsets or ids in clear text', () => {
    const cursor = codec.encode(print, position);
    expect(cursor).not.toContain('42');
    expect(cursor).not.toContain('1564688656142');
  });

  it('refuses a cursor from another query with a message naming filter and orderBy', () => {
    const other = queryFingerprint({ filter: [{ property: 'status', value: ['RUNNING'], op: 'IN' }], sort: [] });
    const cursor = codec.encode(other, position);
    expect(() => codec.decode(print, cursor, 'after')).toThrow(/another filter or orderBy/);
    expect(codeOf(() => codec.decode(print, cursor, 'after'))).toBe('BAD_USER_INPUT');
  });

  it('refuses altered, foreign and garbage cursors', () => {
    const cursor = codec.encode(print, position);
    const [payload, mac] = cursor.split('.') as [string, string];
    const altered = Buffer.from(JSON.stringify([1, print, 0, [1577881234123], '1564688656142'])).toString('base64url');
    expect(codeOf(() => codec.decode(print, `${altered}.${mac}`, 'after'))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => codec.decode(print, `${payload}.${mac.slice(1)}`, 'after'))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => new CursorCodec(Buffer.from('another secret, another process')).decode(print, cursor, 'before'))).toBe('BAD_USER_INPUT');
    for (const garbage of ['', 'abc', '....', 'x'.repeat(5000), 'YWJj.ZGVm']) {
      expect(() => codec.decode(print, garbage, 'before')).toThrow(/Argument "before" is not a valid cursor/);
    }
  });
});
