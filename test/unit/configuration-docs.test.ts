/**
 * docs/configuration.md lists every variable the code reads, and nothing else: the gateway's
 * from the zod schema in src/config.ts, the simulator's from src/simulator/options.ts. Both are
 * read as source text (parsed with the TypeScript compiler) so neither module has to export
 * anything for the docs' sake.
 */
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** Property names of the object literal passed to `z.object(...)` in `const envSchema = ...`. */
function schemaVariables(): string[] {
  const file = ts.createSourceFile('config.ts', read('src/config.ts'), ts.ScriptTarget.Latest, true);
  let names: string[] | undefined;
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.name.getText(file) === 'envSchema' && node.initializer && ts.isCallExpression(node.initializer)) {
      const [shape] = node.initializer.arguments;
      if (shape && ts.isObjectLiteralExpression(shape)) {
        names = shape.properties.map((p) => {
          if (!p.name) throw new Error(`src/config.ts: envSchema has a property without a name: ${p.getText(file)}`);
          return p.name.getText(file).replace(/^['"]|['"]$/g, '');
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (!names) throw new Error('src/config.ts has no `const envSchema = z.object({ ... })`: this test reads the variable names from it');
  return names;
}

/** `env: 'SIM_...'` of every simulator setting. */
function simulatorVariables(): string[] {
  return [...read('src/simulator/options.ts').matchAll(/\benv:\s*'([A-Z][A-Z0-9_]*)'/g)].map((m) => m[1]!);
}

/** The first column of the table under `## <heading>` in docs/configuration.md. */
function documented(heading: string): string[] {
  const doc = read('docs/configuration.md');
  const start = doc.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/configuration.md has no "## ${heading}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1]!);
}

const sorted = (names: string[]) => [...names].sort();

describe('docs/configuration.md', () => {
  it('lists exactly the environment variables src/config.ts reads, each once', () => {
    const code = schemaVariables();
    const docs = documented('Gateway');
    expect(code.length).toBeGreaterThan(50);
    expect(sorted(docs)).toEqual(sorted(code));
    expect(new Set(docs).size).toBe(docs.length);
  });

  it("lists exactly the simulator's environment variables from src/simulator/options.ts, each once", () => {
    const code = simulatorVariables();
    const docs = documented('Simulator');
    expect(code.length).toBeGreaterThan(10);
    expect(sorted(docs)).toEqual(sorted(code));
    expect(new Set(docs).size).toBe(docs.length);
  });
});
