/**
 * Property tests of the cursor codec: every cursor decodes to the position it was made for,
 * and any single flipped bit, anywhere in it, is refused (tamper evidence).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CursorCodec } from '../../src/pagination/cursor.js';
import { runs } from './arbitraries.js';

const codec = new CursorCodec(Buffer.from('property-test-cursor-secret'));
const keyArb = fc.oneof(fc.constant(null), fc.integer(), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.boolean());
const positionArb = fc.record({ offset: fc.option(fc.nat(), { nil: null }), keys: fc.array(keyArb, { maxLength: 3 }), id: fc.string({ maxLength: 14 }) });
const fingerprintArb = fc.string({ minLength: 1, maxLength: 12 });

function flip(text: string, at: number, bit: number): string {
  const i = at % text.length;
  return text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ (1 << bit)) + text.slice(i + 1);
}

describe('CursorCodec (property-based)', () => {
  it('decodes every cursor to the position it was made for', () => {
    fc.assert(
      fc.property(fingerprintArb, positionArb, (fingerprint, position) => {
        expect(codec.decode(fingerprint, codec.encode(fingerprint, position), 'after')).toEqual(position);
      }),
      { numRuns: runs(300) },
    );
  });

  it('refuses a cursor with any one bit flipped, with BAD_USER_INPUT', () => {
    fc.assert(
      fc.property(fingerprintArb, positionArb, fc.nat(), fc.nat({ max: 6 }), (fingerprint, position, at, bit) => {
        const altered = flip(codec.encode(fingerprint, position), at, bit);
        expect(() => codec.decode(fingerprint, altered, 'after')).toThrow(
          expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
        );
      }),
      { numRuns: runs(500) },
    );
  });

  it('refuses a cursor whose last MAC character differs only in bits base64url decoding ignores (seed -1563557430)', () => {
    const cursor = codec.encode(' ', { offset: 1000662112, keys: [null], id: '   &"' });
    const altered = flip(cursor, 2143289315, 1);
    expect(altered.split('.')[0]).toBe(cursor.split('.')[0]);
    expect(Buffer.from(altered.split('.')[1]!, 'base64url')).toEqual(Buffer.from(cursor.split('.')[1]!, 'base64url'));
    expect(() => codec.decode(' ', altered, 'after')).toThrow(/is not a valid cursor/);
  });
});
