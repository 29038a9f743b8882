/**
 * The rooms of src/ and the one direction imports may take (docs/architecture.md).
 *
 * LAYERS lists the rooms from the top (the composition root) to the ground floor: a module may
 * import its own room and any room below it, never one above. Generated code
 * (src/__generated__/: resolver types that point back at the record types they map) may be
 * imported from anywhere and is not itself checked, and cycles through it are allowed.
 * `npm run lint` runs these rules; test/unit/import-rules.test.ts proves they catch a planted
 * upward import.
 */
const LAYERS = [
  ['root', '^src/(main|gateway)\\.ts$'],
  ['http', '^src/http/'],
  ['transports', '^src/transports/'],
  ['graphql', '^src/graphql/'],
  ['resolvers', '^src/resolvers/'],
  ['actions', '^src/actions/'],
  ['live', '^src/live/'],
  ['lists', '^src/lists/'],
  ['identity', '^src/identity/'],
  ['translate', '^src/translate/'],
  ['pagination', '^src/pagination/'],
  // Above upstream: upstream/ declares the small metrics interface it needs, observability/ implements it.
  ['observability', '^src/observability/'],
  ['upstream', '^src/upstream/'],
  ['state', '^src/state/'],
  // The ground floor: SPP's wire types (shared with the simulator), configuration, the error vocabulary.
  ['ground', '^src/(spp-api/|config\\.ts$|errors\\.ts$)'],
];

const either = (patterns) => `(${patterns.join('|')})`;

const upward = LAYERS.slice(1).map(([name, path], index) => ({
  name: `no-upward-from-${name}`,
  comment: `${name} may import only its own room and the rooms below it (${
    LAYERS.slice(index + 2)
      .map(([n]) => n)
      .join(', ') || 'none'
  }).`,
  severity: 'error',
  from: { path },
  to: { path: either(LAYERS.slice(0, index + 1).map(([, p]) => p)) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'every-module-has-a-room',
      comment: 'A new folder under src/ gets its place in LAYERS (.dependency-cruiser.cjs) before it is imported.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: either([...LAYERS.map(([, p]) => p), '^src/__generated__/', '^src/simulator/']) },
    },
    {
      name: 'pagination-knows-no-graphql',
      comment: 'The paging engine knows list descriptions, not the GraphQL types generated from the schema.',
      severity: 'error',
      from: { path: '^src/pagination/' },
      to: { path: '^src/__generated__/' },
    },
    {
      name: 'simulator-imports-nothing-of-the-gateway',
      comment: "The simulator is a separate program: it may share only SPP's wire types (src/spp-api/).",
      severity: 'error',
      from: { path: '^src/simulator/' },
      to: { path: '^src/', pathNot: '^src/(simulator|spp-api)/' },
    },
    {
      name: 'only-main-starts-the-simulator',
      comment: 'The gateway knows the simulator only as a URL; main.ts starts the embedded one.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(main\\.ts$|simulator/)' },
      to: { path: '^src/simulator/' },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles, except through generated code.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/__generated__/' },
      to: { circular: true, viaOnly: { pathNot: '^src/__generated__/' } },
    },
    {
      name: 'src-never-imports-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts|examples)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
  },
};
