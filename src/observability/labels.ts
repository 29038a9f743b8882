/**
 * Bounded label values for names that come from callers (consumers, client names and versions):
 * each distinct value is a time series, so past `max` distinct values the rest count as
 * `(other)`, and values that do not look like names (printable, at most 100 characters) too.
 */
const PRINTABLE = /^[\x21-\x7e][\x20-\x7e]{0,99}$/;

export class BoundedLabels {
  private readonly known = new Set<string>();

  constructor(private readonly max: number) {}

  /** The label for `value`; `missing` when there is none. */
  of(value: string | undefined, missing = '(none)'): string {
    if (!value) return missing;
    if (this.known.has(value)) return value;
    if (!PRINTABLE.test(value) || this.known.size >= this.max) return '(other)';
    this.known.add(value);
    return value;
  }
}
