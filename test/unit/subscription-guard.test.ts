/**
 * Issue 22, item 5: the subscription transports' document cache is bounded by weight, not by
 * count: 500 documents of MAX_DOCUMENT_BYTES each, with their syntax trees, used to stay cached.
 */
import { describe, expect, it } from 'vitest';
import { createSchema } from '../../src/graphql/apollo.js';
import { createOperationChecker, SUBSCRIPTION_DOCUMENTS_BYTES } from '../../src/transports/guard.js';

const LIMITS = { maxDepth: 12, maxAliases: 30, maxCost: 100_000, maxTokens: 5_000, defaultPageSize: 25, maxDocumentBytes: 40_000 };

describe('subscription document cache', () => {
  it('holds at most its weight bound however many large distinct documents arrive, and still checks each', () => {
    const check = createOperationChecker(createSchema(), LIMITS);
    // Documents of about 32 KB (a long comment), distinct by their number: 12 MB in all, more than the bound.
    const selection = Array.from({ length: 5 }, () => 'session { sessionId jobName status percent }').join(' ');
    for (let i = 0; i < 400; i++) {
      const query = `subscription S${i} { jobSessionEvents { kind sessionId ${selection} } } # ${String(i).padStart(8, '0')}${'.'.repeat(32_000)}`;
      const checked = check({ query });
      expect('document' in checked).toBe(true);
    }
    expect(check.cachedBytes()).toBeGreaterThan(SUBSCRIPTION_DOCUMENTS_BYTES / 2);
    expect(check.cachedBytes()).toBeLessThanOrEqual(SUBSCRIPTION_DOCUMENTS_BYTES * 1.25);
  });
});
