/**
 * Types for this consumer's operations, generated from the gateway's SDL (graphql-codegen's
 * client preset), and the operations as a trusted-documents manifest (src/gql/persisted-documents.json)
 * the gateway can enforce with PERSISTED_DOCUMENTS_FILE. Run from the repository root:
 *   npx graphql-codegen --config examples/typed-consumer/codegen.ts          (write)
 *   npx graphql-codegen --config examples/typed-consumer/codegen.ts --check  (fail when stale)
 * A consumer outside this repository points `schema` at its gateway's GET /schema.graphql
 * instead (docs/consumers.md).
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

const here = new URL('./', import.meta.url).pathname;

const config: CodegenConfig = {
  schema: `${here}../../schema/schema.graphql`,
  documents: [`${here}src/**/*.ts`, `!${here}src/gql/**/*`],
  ignoreNoDocuments: false,
  generates: {
    [`${here}src/gql/`]: {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        // SHA-256, so the same hashes serve `documentId` and Apollo's `persistedQuery.sha256Hash`.
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        // Only the types this consumer's operations use: schema changes elsewhere leave the output alone.
        onlyOperationTypes: true,
        // `.js` in relative imports, as Node's ESM resolution needs.
        emitLegacyCommonJSImports: false,
        scalars: { DateTime: 'string', JSON: 'unknown' },
      },
    },
  },
};
export default config;
