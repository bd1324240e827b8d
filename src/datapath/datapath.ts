// The Datapath interface: what the reconciler needs from the kernel side, in terms of encoded map entries.
// Two implementations with the same semantics: the real one over the native addon (kernel.ts) and an
// in-memory one (memory.ts) for reconciler and CLI unit tests.

/** Maps whose content the reconciler owns: user space writes them, the programs only read them. */
export const TABLES = ['endpoints', 'ipcache', 'cidr_atoms', 'policy', 'services'] as const;
export type TableName = (typeof TABLES)[number];

export interface MapEntry {
  readonly key: Buffer;
  readonly value: Buffer;
}

export type HookMode = 'tcx' | 'tc';

export interface Attachment {
  readonly ifindex: number;
  readonly ifname: string;
  readonly mode: HookMode;
}

/** Raised when a map has no room: the datapath never falls back to allowing. */
export class MapFullError extends Error {
  constructor(readonly table: string, readonly capacity: number) {
    super(`map ${table} is full (capacity ${capacity}); raise mapSizes in the configuration`);
    this.name = 'MapFullError';
  }
}

export interface Datapath {
  /** Current content of a table, keyed by the key's hex form. */
  read(table: TableName): Map<string, Buffer>;
  /** Apply upserts then deletes. Throws MapFullError when an upsert finds no room. */
  write(table: TableName, upserts: readonly MapEntry[], deletes: readonly Buffer[]): void;
  capacity(table: TableName): number;
  /** The global moat_config struct. */
  writeConfig(value: Buffer): void;
  attachments(): Attachment[];
  attach(ifindex: number, ifname: string): Attachment;
  detach(ifindex: number): void;
  /** Per-CPU counters summed: key hex → moat_counter_value buffers, one per CPU. */
  readCounters(): Map<string, Buffer[]>;
  close(): void;
}
