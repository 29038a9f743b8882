/**
 * Typed documents from the gateway's SDL (graphql-codegen client preset), and the app's
 * operations as a trusted-documents manifest (dist/../src/gql/persisted-documents.json) the gateway can enforce
 * with PERSISTED_DOCUMENTS_FILE. Hashes are SHA-256 so Apollo's persisted-query link can send
 * them as `extensions.persistedQuery.sha256Hash`; __typename is added to the persisted text
 * exactly as Apollo Client's cache adds it to what it asks for, so answers normalise.
 */
import type { CodegenConfig } from '@graphql-codegen/cli';
import { addTypenameSelectionDocumentTransform } from '@graphql-codegen/client-preset';

const config: CodegenConfig = {
  schema: '../../schema/schema.graphql',
  documents: ['src/**/*.tsx', 'src/**/*.ts', '!src/gql/**/*'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { hashAlgorithm: 'sha256' },
      },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: 'string', JSON: 'unknown' },
      },
      documentTransforms: [addTypenameSelectionDocumentTransform],
    },
  },
};
export default config;
