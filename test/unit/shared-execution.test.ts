import { describe, expect, it } from 'vitest';
import { parse } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { subscribeShared } from '../../src/graphql/shared-execution.js';
import { EventQueue } from '../../src/live/queue.js';

describe('subscribeShared', () => {
  it('executes a document once per event for every subscriber that shares both, and separately for other variables', async () => {
    let executions = 0;
    const queues: Array<EventQueue<{ n: number }>> = [];
    const schema = makeExecutableSchema({
      typeDefs: 'type Query { ok: Boolean } type Subscription { tick(scale: Int): Tick! } type Tick { value: Int! }',
      resolvers: {
        Subscription: {
          tick: {
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
          },
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
