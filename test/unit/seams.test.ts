import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dir = new URL('../../src/pagination/', import.meta.url);

describe('the paging engine', () => {
  it('knows lists, not job sessions: nothing in src/pagination/ names a list the gateway reads', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) {
      const code = readFileSync(new URL(file, dir), 'utf8');
      expect({ file, lists: /from '\.\.\/(lists|resolvers|__generated__)\//.test(code), records: /\bSpp(JobSession|Job|JobLogEntry)\b/.test(code) }).toEqual({ file, lists: false, records: false });
    }
  });
});
