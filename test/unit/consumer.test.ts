import { describe, expect, it } from 'vitest';
import { clientOf, consumerOf, sharingKey } from '../../src/identity/consumer.js';
import type { Authenticator } from '../../src/identity/auth.js';
import { BoundedLabels } from '../../src/observability/labels.js';

describe('consumerOf', () => {
  it('names an authenticated caller by its actor, and an anonymous or refused one `anonymous`, keyed by its address', () => {
    const token = {
      key: 'token:abc',
      name: 'gateway-token:abcdefgh',
      consumer: 'token:abcdefgh',
      kind: 'gateway-token',
      roles: ['viewer'],
      anonymous: false,
    } as const;
    expect(consumerOf(token, '127.0.0.1')).toEqual({ key: 'token:abc', consumer: 'token:abcdefgh' });
    const key = { ...token, key: 'api-key:billing', consumer: 'billing', kind: 'api-key', budget: { points: 50, restorePerSecond: 1 } } as const;
    expect(consumerOf(key, '127.0.0.1')).toEqual({ key: 'api-key:billing', consumer: 'billing', budget: { points: 50, restorePerSecond: 1 } });
    const anonymous = { key: 'anonymous', name: 'anonymous', consumer: 'anonymous', kind: 'anonymous', roles: [], anonymous: true } as const;
    expect(consumerOf(anonymous, '::ffff:10.0.0.7')).toEqual({ key: 'address:10.0.0.7', consumer: 'anonymous' });
    expect(consumerOf(undefined, '10.0.0.7')).toEqual({ key: 'address:10.0.0.7', consumer: 'anonymous' });
    expect(consumerOf(undefined, '::1')).toEqual({ key: 'address:::1', consumer: 'anonymous' });
    expect(consumerOf(undefined, undefined)).toEqual({ key: 'address:unknown', consumer: 'anonymous' });
  });
});

describe('clientOf', () => {
  it('reads apollographql-client-name and -version when printable and at most 100 characters', () => {
    expect(clientOf({ 'apollographql-client-name': ' job-monitor ', 'apollographql-client-version': '2.1.0' })).toEqual({
      name: 'job-monitor',
      version: '2.1.0',
    });
    expect(clientOf({ 'apollographql-client-name': 'x'.repeat(101), 'apollographql-client-version': 'bad\u0007' })).toEqual({});
    expect(clientOf({})).toEqual({});
  });
});

describe('BoundedLabels', () => {
  it('keeps the first `max` distinct names, then answers (other), and (none) for no name', () => {
    const labels = new BoundedLabels(2);
    expect(['a', 'b', 'c', 'a', undefined, 'new\nline'].map((v) => labels.of(v))).toEqual(['a', 'b', '(other)', 'a', '(none)', '(other)']);
  });
});

describe('sharingKey', () => {
  it('tells apart callers that differ in upstream identity, consumer or roles, and shares nothing without credentials', () => {
    const caller = { key: 'user:alice', name: 'alice', consumer: 'oidc-user', kind: 'oidc', roles: ['viewer'], anonymous: false } as const;
    const identity = { key: 'service', sessionId: async () => 's', renew: async () => null };
    const keyOf = (outcome: unknown) => sharingKey({ authenticate: () => outcome } as unknown as Authenticator, {}, '127.0.0.1');
    const viewer = keyOf({ identity, actor: caller });
    expect(viewer).toBe(keyOf({ identity, actor: { ...caller } }));
    // The same person with a token that grants the operator role sees actions: another answer.
    expect(keyOf({ identity, actor: { ...caller, roles: ['viewer', 'operator'] } })).not.toBe(viewer);
    expect(keyOf({ identity, actor: { ...caller, key: 'user:bob' } })).not.toBe(viewer);
    expect(keyOf({ identity: { ...identity, key: 'other' }, actor: caller })).not.toBe(viewer);
    expect(keyOf({ error: new Error('no credentials') })).toBeUndefined();
  });
});
