import { describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { subscribeShared } from '../../src/graphql/shared-execution.js';
import { EventQueue } from '../../src/live/queue.js';

/** A `tick` subscription field whose every subscriber gets its own queue, kept in `queues` for the test to push into. */
function tickSource(queues: Array<EventQueue<{ n: number }>>) {
  return {
    subscribe: () => {
      const queue = new EventQueue<{ n: number }>(
        10,
        () => undefined,
        () => undefined,
      );
      queues.push(queue);
      return queue;
    },
    resolve: (event: { n: number }) => event,
  };
}

describe('subscribeShared', () => {
  it('executes a document once per event for every subscriber that shares both, and separately for other variables', async () => {
    let executions = 0;
    const queues: Array<EventQueue<{ n: number }>> = [];
    const schema = makeExecutableSchema({
      typeDefs: 'type Query { ok: Boolean } type Subscription { tick(scale: Int): Tick! } type Tick { value: Int! }',
      resolvers: {
        Subscription: {
          tick: tickSource(queues),
        },
        Tick: {
          value: (event: { n: number }, _args: unknown, _context: unknown, info) => (executions++, event.n * ((info.variableValues.scale as number) ?? 1)),
        },
      },
    });
    const document = parse('subscription($scale: Int) { tick(scale: $scale) { value } }');
    const a = (await subscribeShared({ schema, document, variableValues: { scale: 1 } })) as AsyncIterableIterator<any>;
    const b = (await subscribeShared({ schema, document, variableValues: { scale: 1 } })) as AsyncIterableIterator<any>;
    const c = (await subscribeShared({ schema, document, variableValues: { scale: 10 } })) as AsyncIterableIterator<any>;
    const event = { n: 4 };
    for (const queue of queues) queue.push(event);
    const [ra, rb, rc] = await Promise.all([a.next(), b.next(), c.next()]);
    expect([ra.value, rb.value, rc.value]).toEqual([{ data: { tick: { value: 4 } } }, { data: { tick: { value: 4 } } }, { data: { tick: { value: 40 } } }]);
    expect(executions).toBe(2);
    // return() reaches the source at once, even with a next() pending.
    const pending = a.next();
    await a.return!();
    expect(await pending).toEqual({ value: undefined, done: true });
  });
});

describe('subscribeShared with gateway contexts', () => {
  it('shares an execution only between callers with the same roles, and resolves every event with new upstream loaders', async () => {
    const queues: Array<EventQueue<{ n: number }>> = [];
    const seen: string[] = [];
    const schema = makeExecutableSchema({
      typeDefs: 'type Query { ok: Boolean } type Subscription { tick: Tick! } type Tick { value: String! }',
      resolvers: {
        Subscription: {
          tick: tickSource(queues),
        },
        Tick: {
          value: (event: { n: number }, _args: unknown, context: { name: string; upstream(): { loaders: string } }) => {
            seen.push(`${context.name}:${event.n}:${context.upstream().loaders}`);
            return `${context.name}:${context.upstream().loaders}`;
          },
        },
      },
    });
    let built = 0;
    const contextOf = (name: string, roles: string[]) => ({
      name,
      caller: () => ({ actor: { roles, anonymous: false } }),
      upstream: () => ({ loaders: 'kept for the whole subscription' }),
      freshUpstream: () => {
        const loaders = `loaders ${++built}`;
        return () => ({ loaders });
      },
    });
    const document = parse('subscription { tick { value } }');
    const subscribe = (name: string, roles: string[]) =>
      subscribeShared({ schema, document, contextValue: contextOf(name, roles) }) as Promise<AsyncIterableIterator<any>>;
    const viewer = await subscribe('viewer', ['viewer']);
    const otherViewer = await subscribe('other viewer', ['viewer']);
    const operator = await subscribe('operator', ['viewer', 'operator']);
    for (const n of [1, 2]) {
      const event = { n };
      for (const queue of queues) queue.push(event);
      const results = await Promise.all([viewer.next(), otherViewer.next(), operator.next()]);
      const values = results.map((r) => r.value.data.tick.value as string);
      // The two viewers share the viewer's execution; the operator has its own; each event its own loaders.
      expect(values[0]).toBe(values[1]);
      expect(values[0]).toMatch(/^viewer:loaders \d+$/);
      expect(values[2]).toMatch(/^operator:loaders \d+$/);
    }
    expect(seen).toHaveLength(4);
    expect(new Set(seen.map((s) => s.split(':')[2])).size).toBe(4);
  });
});
