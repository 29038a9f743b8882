/**
 * The static cache age of a query (src/graphql/cache-policy.ts): Apollo's @cacheControl rules read
 * from the document, with fragments, aliases and dynamic root fields.
 */
import { Kind, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createCachePolicy } from '../../src/graphql/http-caching.js';
import { createSchema } from '../../src/graphql/apollo.js';
import { DYNAMIC_ROOT_FIELDS } from '../../src/resolvers/context.js';

const policy = createCachePolicy(createSchema(), DYNAMIC_ROOT_FIELDS);
const ageOf = (query: string) => {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return policy(document, operation);
};

describe('the static cache age of a query', () => {
  it.each([
    ['job definitions', '{ jobs(first: 2) { totalCount nodes { name } pageInfo { endCursor } } }', 30],
    ['a live field of a job', '{ jobs(first: 2) { nodes { name status } } }', 0],
    ['a job through a fragment with a live field', '{ jobs { nodes { ...J } } } fragment J on Job { name nextFireTime }', 0],
    ['a job through an inline fragment', '{ jobs { nodes { ... on Job { name type } } } }', 30],
    ['session lists', '{ jobSessions(first: 2) { nodes { sessionId } } }', 0],
    ['counts', '{ jobSessionCounts { count } }', 0],
    ['statistics', '{ jobSessionStats { totalRuns } }', 0],
    ['a dynamic root field with static parts only', '{ jobSession(id: "1") { sessionId statistics { total } policySnapshot { name } } }', 300],
    ['a dynamic root field and its job', '{ jobSession(id: "1") { sessionId job { name } } }', 30],
    ['a dynamic root field alone', '{ jobSession(id: "1") { sessionId } }', undefined],
    ['a session log (inherits its session age)', '{ jobSession(id: "1") { log(first: 2) { nodes { message } pageInfo { hasNextPage } } } }', undefined],
    ['__typename only', '{ __typename }', undefined],
    ['introspection', '{ __schema { queryType { name } } }', 0],
    ['the smallest of aliases', '{ a: jobs { totalCount } b: jobSessionCounts { count } }', 0],
  ])('%s', (_name, query, expected) => {
    expect(ageOf(query)).toBe(expected);
  });

  it('answers a repeated document from its memo, the same', () => {
    const document = parse('{ jobs { totalCount } }');
    const operation = document.definitions[0] as OperationDefinitionNode;
    expect(policy(document, operation)).toBe(30);
    expect(policy(document, operation)).toBe(30);
  });
});
