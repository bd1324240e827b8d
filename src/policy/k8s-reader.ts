// Typed access to one decoded manifest object: every read names its field, and a value of the wrong
// type becomes a ManifestError instead of an exception, so one bad field never hides the others.
import type { ManifestError } from './errors.js';

export type Fields = Readonly<Record<string, unknown>>;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value;
}

export class ObjectReader {
  constructor(
    readonly file: string,
    public object: string,
    private readonly errors: ManifestError[],
    private readonly warnings: ManifestError[],
  ) {}

  errorCount(): number {
    return this.errors.length;
  }

  error(field: string, message: string): void {
    this.errors.push({ file: this.file, object: this.object, field, message });
  }

  warn(field: string, message: string): void {
    this.warnings.push({ file: this.file, object: this.object, field, message });
  }

  /** Every problem of a syntax check becomes one error on `field`, quoting the value. */
  check(field: string, value: string | number, problems: readonly string[]): boolean {
    for (const problem of problems) this.error(field, `Invalid value: ${JSON.stringify(value)}: ${problem}`);
    return problems.length === 0;
  }

  required(field: string): void {
    this.error(field, 'Required value');
  }

  private typed<T>(value: unknown, field: string, expected: string, accept: (v: unknown) => v is T): T | undefined {
    if (value === undefined || value === null) return undefined;
    if (accept(value)) return value;
    this.error(field, `must be ${expected}, got ${typeName(value)}`);
    return undefined;
  }

  fields(value: unknown, field: string): Fields | undefined {
    return this.typed(value, field, 'an object', (v): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v));
  }

  list(value: unknown, field: string): readonly unknown[] | undefined {
    return this.typed(value, field, 'a list', (v): v is unknown[] => Array.isArray(v));
  }

  string(value: unknown, field: string): string | undefined {
    return this.typed(value, field, 'a string', (v): v is string => typeof v === 'string');
  }

  integer(value: unknown, field: string): number | undefined {
    return this.typed(value, field, 'an integer', (v): v is number => typeof v === 'number' && Number.isInteger(v));
  }

  boolean(value: unknown, field: string): boolean | undefined {
    return this.typed(value, field, 'a boolean', (v): v is boolean => typeof v === 'boolean');
  }

  /** A list whose items are read by `read`, each with its indexed field path. */
  items<T>(value: unknown, field: string, read: (item: unknown, itemField: string, index: number) => T | undefined): T[] {
    const result: T[] = [];
    (this.list(value, field) ?? []).forEach((item, index) => {
      const parsed = read(item, `${field}[${index}]`, index);
      if (parsed !== undefined) result.push(parsed);
    });
    return result;
  }

  /** A map of string to string (labels, annotations, selectors). */
  stringMap(value: unknown, field: string): Record<string, string> {
    const map: Record<string, string> = {};
    for (const [key, entry] of Object.entries(this.fields(value, field) ?? {})) {
      const text = this.string(entry, `${field}[${key}]`);
      if (text !== undefined) map[key] = text;
    }
    return map;
  }
}
