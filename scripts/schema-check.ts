/**
 * `npm run schema:check`: compares schema/schema.graphql with the last released schema
 * (schema/released/schema.graphql) with graphql-inspector and fails on a breaking change that
 * schema/released/accepted-changes.json does not name. A field is retired by marking it
 * `@deprecated` in one release and removing it in a later one: removing a field the released
 * schema already deprecates is not breaking (graphql-inspector's suppressRemovalOfDeprecatedField).
 * On a release, copy schema/schema.graphql to schema/released/ and empty the accept list.
 *
 * Options (tests use them): --current <file> --released <file> --accepted <file>.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildSchema } from 'graphql';
import { CriticalityLevel, diff, DiffRule, type Change } from '@graphql-inspector/core';

/** An entry of the accept list: the change's message exactly as this check prints it, and why it is acceptable. */
interface AcceptedChange {
  change: string;
  reason: string;
}

export interface SchemaCheck {
  breaking: Change[];
  accepted: Change[];
  dangerous: Change[];
  safe: Change[];
  /** Accept-list entries that match no change (left over from an earlier release). */
  unused: AcceptedChange[];
}

export async function checkSchema(releasedSdl: string, currentSdl: string, acceptList: AcceptedChange[]): Promise<SchemaCheck> {
  const changes = await diff(buildSchema(releasedSdl), buildSchema(currentSdl), [DiffRule.suppressRemovalOfDeprecatedField]);
  const acceptedMessages = new Set(acceptList.map((entry) => entry.change));
  const breaking = changes.filter((change) => change.criticality.level === CriticalityLevel.Breaking);
  return {
    breaking: breaking.filter((change) => !acceptedMessages.has(change.message)),
    accepted: breaking.filter((change) => acceptedMessages.has(change.message)),
    dangerous: changes.filter((change) => change.criticality.level === CriticalityLevel.Dangerous),
    safe: changes.filter((change) => change.criticality.level === CriticalityLevel.NonBreaking),
    unused: acceptList.filter((entry) => !breaking.some((change) => change.message === entry.change)),
  };
}

function readAcceptList(file: string): AcceptedChange[] {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const valid = (entry: unknown): entry is AcceptedChange =>
    typeof entry === 'object' &&
    entry !== null &&
    typeof (entry as AcceptedChange).change === 'string' &&
    typeof (entry as AcceptedChange).reason === 'string' &&
    (entry as AcceptedChange).reason.trim().length > 0;
  if (!Array.isArray(parsed) || !parsed.every(valid)) throw new Error(`${file}: expected an array of {"change": "<message>", "reason": "<why>"}`);
  return parsed;
}

async function main(): Promise<number> {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const { values } = parseArgs({
    options: {
      current: { type: 'string', default: `${root}schema/schema.graphql` },
      released: { type: 'string', default: `${root}schema/released/schema.graphql` },
      accepted: { type: 'string', default: `${root}schema/released/accepted-changes.json` },
    },
  });
  const result = await checkSchema(readFileSync(values.released, 'utf8'), readFileSync(values.current, 'utf8'), readAcceptList(values.accepted));
  const list = (changes: Change[]) => changes.map((change) => `  - ${change.message}`).join('\n');
  console.log(`schema:check: ${result.safe.length} safe, ${result.dangerous.length} dangerous, ${result.accepted.length} accepted breaking change(s)`);
  if (result.dangerous.length > 0) console.log(`Dangerous (may change what clients see, not what compiles):\n${list(result.dangerous)}`);
  if (result.unused.length > 0)
    console.warn(`Accepted changes that no longer occur (remove them):\n${result.unused.map((entry) => `  - ${entry.change}`).join('\n')}`);
  if (result.breaking.length === 0) return 0;
  console.error(
    `Breaking changes against ${values.released}:\n${list(result.breaking)}\n` +
      'Retire a field with @deprecated(reason: "...") and remove it in a later release; or, when a break is intended, ' +
      `add {"change": "<message above>", "reason": "<why clients are safe>"} to ${values.accepted}.`,
  );
  return 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
