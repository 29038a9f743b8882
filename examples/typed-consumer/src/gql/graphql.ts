/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/**
 * The state of a job session. The 16 values documented by IBM, plus `ABORTED` (seen in SPP's UI and statistics).
 * SPP's alternative spelling `CANCELLED` reads as `CANCELED`.
 */
export type JobSessionStatus =
  /** The session was aborted. */
  | 'ABORTED'
  /** The session was canceled (SPP also spells it `CANCELLED`). */
  | 'CANCELED'
  /** The session is being canceled. */
  | 'CANCELING'
  /** The session completed successfully. */
  | 'COMPLETED'
  /** The session failed. */
  | 'FAILED'
  /** The session is held. */
  | 'HELD'
  /** The session completed with some failures or skipped items. */
  | 'PARTIAL'
  /** The session is paused. */
  | 'PAUSED'
  /** The session is being paused. */
  | 'PAUSING'
  /** The session waits to start. */
  | 'PENDING'
  /** The session is running. */
  | 'RUNNING'
  /** The session was stopped. */
  | 'STOPPED'
  /** The session is being stopped. */
  | 'STOPPING'
  /** The session is suspended. */
  | 'SUSPENDED'
  /** The session is being suspended. */
  | 'SUSPENDING'
  /** SPP reports an unknown state, or a state this gateway does not know (see `JobSession.statusRaw`). */
  | 'UNKNOWN'
  /** The session waits for a resource. */
  | 'WAITING';

export type RecentSessionsQueryVariables = Exact<{
  first: number;
  status?: Array<JobSessionStatus> | JobSessionStatus | null | undefined;
}>;


export type RecentSessionsQuery = { jobSessions: { totalCount: number | null, nodes: Array<{ id: string, sessionId: string, jobName: string, status: JobSessionStatus, start: string, duration: number | null }> } };

export type SessionDetailQueryVariables = Exact<{
  id: string | number;
}>;


export type SessionDetailQuery = { jobSession: { sessionId: string, status: JobSessionStatus, end: string | null, statistics: Array<{ resourceType: string, total: number, failed: number }> } | null };


export const RecentSessionsDocument = {"__meta__":{"hash":"sha256:df3614ddcd0ee76e616b31567c735713857b1d6c88f228b1052909a574db417f"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"RecentSessions"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"status"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"JobSessionStatus"}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"jobSessions"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"filter"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"status"},"value":{"kind":"Variable","name":{"kind":"Name","value":"status"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"nodes"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"sessionId"}},{"kind":"Field","name":{"kind":"Name","value":"jobName"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"start"}},{"kind":"Field","name":{"kind":"Name","value":"duration"}}]}}]}}]}}]} as unknown as DocumentNode<RecentSessionsQuery, RecentSessionsQueryVariables>;
export const SessionDetailDocument = {"__meta__":{"hash":"sha256:ec436ba86eb78f4f31dfb29b68b5634a320bffd26ec613afaf5eeb6f602abd12"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SessionDetail"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"jobSession"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"sessionId"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"end"}},{"kind":"Field","name":{"kind":"Name","value":"statistics"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resourceType"}},{"kind":"Field","name":{"kind":"Name","value":"total"}},{"kind":"Field","name":{"kind":"Name","value":"failed"}}]}}]}}]}}]} as unknown as DocumentNode<SessionDetailQuery, SessionDetailQueryVariables>;