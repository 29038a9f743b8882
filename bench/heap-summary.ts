/**
 * `tsx bench/heap-summary.ts FILE.heapsnapshot [OTHER.heapsnapshot]`: what a V8 heap snapshot
 * holds, by constructor (objects) or kind (strings, arrays, code), with the self size of each
 * group, and for the largest groups the constructors of what retains them. With two files the
 * second is compared with the first (the growth by group).
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

interface Summary {
  total: number;
  groups: Map<string, { size: number; count: number; retainers: Map<string, number> }>;
}

function summarise(file: string): Summary {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { node_fields: nf, node_types: nt, edge_fields: ef, edge_types: et } = snap.snapshot.meta;
  const N = nf.length;
  const E = ef.length;
  const [iType, iName, iSize, iEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nf.indexOf(f)) as [number, number, number, number];
  const [eType, eTo] = ['type', 'to_node'].map((f) => ef.indexOf(f)) as [number, number];
  const types = nt[0];
  const edgeTypes = et[0];
  const weak = edgeTypes.indexOf('weak');
  const { nodes, edges, strings } = snap;
  const count = nodes.length / N;
  const group = (n: number): string => {
    const type = types[nodes[n * N + iType]!]!;
    if (type === 'object' || type === 'closure') return `${type === 'closure' ? 'closure ' : ''}${strings[nodes[n * N + iName]!]}`;
    if (type === 'native') return `native ${strings[nodes[n * N + iName]!]!.slice(0, 40)}`;
    return `(${type})`;
  };
  const groupOf = new Array<string>(count);
  for (let n = 0; n < count; n++) groupOf[n] = group(n);
  const groups: Summary['groups'] = new Map();
  let total = 0;
  for (let n = 0; n < count; n++) {
    const g = groupOf[n]!;
    const size = nodes[n * N + iSize]!;
    total += size;
    const entry = groups.get(g) ?? { size: 0, count: 0, retainers: new Map() };
    entry.size += size;
    entry.count++;
    groups.set(g, entry);
  }
  // Retainers: for each strong edge, the holder's group, weighted by the held node's self size.
  let e = 0;
  for (let n = 0; n < count; n++) {
    const holder = groupOf[n]!;
    const edgeCount = nodes[n * N + iEdges]!;
    for (let k = 0; k < edgeCount; k++, e++) {
      if (edges[e * E + eType] === weak) continue;
      const to = edges[e * E + eTo]! / N;
      const entry = groups.get(groupOf[to]!)!;
      entry.retainers.set(holder, (entry.retainers.get(holder) ?? 0) + nodes[to * N + iSize]!);
    }
  }
  return { total, groups };
}

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

const [first, second] = process.argv.slice(2);
if (!first) {
  process.stderr.write('Usage: tsx bench/heap-summary.ts FILE.heapsnapshot [LATER.heapsnapshot]\n');
  process.exit(2);
}
const a = summarise(first);
const b = second ? summarise(second) : undefined;
const shown = b ?? a;
process.stdout.write(`${first}: ${mb(a.total)} MiB in the heap snapshot${b ? `; ${second}: ${mb(b.total)} MiB` : ''}\n\n`);
process.stdout.write(
  `| group | count | self MiB${b ? ' | before MiB | growth MiB' : ''} | held mostly by (MiB) |\n|---|---:|---:|${b ? '---:|---:|' : ''}---|\n`,
);
const rows = [...shown.groups].sort((x, y) => y[1].size - x[1].size).slice(0, 25);
for (const [name, g] of rows) {
  const before = a.groups.get(name)?.size ?? 0;
  const holders = [...g.retainers]
    .sort((x, y) => y[1] - x[1])
    .slice(0, 3)
    .map(([h, s]) => `${h} ${mb(s)}`)
    .join('; ');
  process.stdout.write(`| ${name.replace(/\|/g, '\\|')} | ${g.count} | ${mb(g.size)}${b ? ` | ${mb(before)} | ${mb(g.size - before)}` : ''} | ${holders} |\n`);
}
