/**
 * API keys (API_KEYS_FILE): services with names. The file, YAML or JSON, lists each key's name,
 * the hex SHA-256 of the key (the key itself is never stored), its roles and optionally its
 * budget. A key is presented as `Authorization: Bearer <key>`.
 *
 * The file is read again when it changes (the folder is watched, so an editor's or Kubernetes'
 * replace-by-rename is seen too) and on SIGHUP, without a restart. A file that does not parse
 * at start stops the gateway (an operator's typo must not open or close the door silently); a
 * bad edit later keeps the keys already loaded and logs what was wrong.
 */
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config.js';
import type { Budget, Caller, Role } from './caller.js';

const keyFileSchema = z.object({
  keys: z
    .array(
      z.object({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { message: 'expected 1-63 letters, digits, ".", "_" or "-" (it becomes a metrics label)' }),
        sha256: z
          .string()
          .trim()
          .regex(/^[0-9a-fA-F]{64}$/, { message: 'expected the hex SHA-256 of the key (64 hex digits), never the key itself' }),
        roles: z.array(z.enum(['viewer', 'operator'])).min(1),
        budget: z.object({ points: z.number().int().positive(), restorePerSecond: z.number().positive() }).strict().optional(),
      }),
    )
    .max(10_000),
});

export interface ApiKey {
  name: string;
  roles: readonly Role[];
  budget?: Budget;
}

/** Parses the file's text (YAML, of which JSON is a subset); throws an Error naming what was wrong. */
export function parseApiKeys(text: string): Map<string, ApiKey> {
  const parsed = keyFileSchema.safeParse(parseYaml(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.length ? issue.path.join('.') : 'the file'}: ${issue.message}`);
  }
  const byDigest = new Map<string, ApiKey>();
  const names = new Set<string>();
  for (const entry of parsed.data.keys) {
    if (names.has(entry.name)) throw new Error(`keys: the name "${entry.name}" is used twice (names tell consumers apart)`);
    names.add(entry.name);
    const roles: Role[] = entry.roles.includes('operator') ? ['viewer', 'operator'] : ['viewer'];
    byDigest.set(entry.sha256.toLowerCase(), { name: entry.name, roles, ...(entry.budget ? { budget: entry.budget } : {}) });
  }
  return byDigest;
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The caller an API key stands for: keyed and named by its name. */
export const apiKeyCaller = (key: ApiKey): Caller => ({
  key: `api-key:${key.name}`,
  consumer: key.name,
  kind: 'api-key',
  subject: key.name,
  roles: key.roles,
  ...(key.budget ? { budget: key.budget } : {}),
  name: key.name,
  anonymous: false,
});

export class ApiKeys {
  private keys: Map<string, ApiKey>;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onHangup = () => this.reload('SIGHUP');

  /** Reads `file` now; throws an Error naming the file and the fault when it cannot be used. */
  constructor(
    private readonly file: string,
    private readonly logger: Logger,
  ) {
    this.keys = this.read();
    logger.info({ file, keys: this.keys.size }, 'API keys loaded');
    const name = basename(file);
    try {
      // The folder, not the file: a replace-by-rename gives the file a new inode that a file watch would miss.
      this.watcher = watch(dirname(file), (_event, changed) => {
        if (changed !== null && changed !== name) return;
        // Editors write in steps: read once it settled.
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reload('change'), 100);
        this.timer.unref();
      });
      this.watcher.unref();
    } catch (error) {
      logger.warn({ file, err: error }, 'API_KEYS_FILE cannot be watched: send SIGHUP after editing it');
    }
    process.on('SIGHUP', this.onHangup);
  }

  get size(): number {
    return this.keys.size;
  }

  /** The key's entry, or undefined. The lookup is by the key's SHA-256, so its time tells nothing about stored keys. */
  find(presented: string): ApiKey | undefined {
    return this.keys.get(sha256Hex(presented));
  }

  /** Reads the file again; a file that does not parse keeps the keys in use. */
  reload(why: string): boolean {
    try {
      this.keys = this.read();
      this.logger.info({ file: this.file, keys: this.keys.size, why }, 'API keys reloaded');
      return true;
    } catch (error) {
      this.logger.error({ file: this.file, why }, `API_KEYS_FILE not reloaded, the keys loaded before stay in use: ${(error as Error).message}`);
      return false;
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    process.off('SIGHUP', this.onHangup);
  }

  private read(): Map<string, ApiKey> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      throw new ConfigError(`Invalid API_KEYS_FILE (${JSON.stringify(this.file)}): cannot read it: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    try {
      return parseApiKeys(text);
    } catch (error) {
      throw new ConfigError(`Invalid API_KEYS_FILE (${JSON.stringify(this.file)}): ${(error as Error).message}`);
    }
  }
}
