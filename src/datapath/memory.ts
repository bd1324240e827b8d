// In-memory Datapath with the kernel's observable semantics (capacity, replace-on-update, attach set),
// so the reconciler and the CLI can be tested without BPF.
import { MapFullError, TABLES, type Attachment, type Datapath, type MapEntry, type TableName } from './datapath.js';

export class MemoryDatapath implements Datapath {
  private readonly tables = new Map<TableName, Map<string, Buffer>>(TABLES.map((t) => [t, new Map()]));
  private readonly attached = new Map<number, Attachment>();
  private config: Buffer | undefined;
  readonly writes: { table: TableName; upserts: number; deletes: number }[] = [];

  constructor(private readonly capacities: Readonly<Record<TableName, number>>) {}

  read(table: TableName): Map<string, Buffer> {
    return new Map(this.table(table));
  }

  write(table: TableName, upserts: readonly MapEntry[], deletes: readonly Buffer[]): void {
    const content = this.table(table);
    for (const { key, value } of upserts) {
      const hex = key.toString('hex');
      if (!content.has(hex) && content.size >= this.capacities[table]) throw new MapFullError(table, this.capacities[table]);
      content.set(hex, Buffer.from(value));
    }
    for (const key of deletes) content.delete(key.toString('hex'));
    this.writes.push({ table, upserts: upserts.length, deletes: deletes.length });
  }

  capacity(table: TableName): number {
    return this.capacities[table];
  }

  writeConfig(value: Buffer): void {
    this.config = Buffer.from(value);
  }

  readConfig(): Buffer | undefined {
    return this.config;
  }

  attachments(): Attachment[] {
    return [...this.attached.values()];
  }

  attach(ifindex: number, ifname: string): Attachment {
    const attachment: Attachment = { ifindex, ifname, mode: 'tcx' };
    this.attached.set(ifindex, attachment);
    return attachment;
  }

  detach(ifindex: number): void {
    this.attached.delete(ifindex);
  }

  readCounters(): Map<string, Buffer[]> {
    return new Map();
  }

  close(): void {}

  private table(name: TableName): Map<string, Buffer> {
    const t = this.tables.get(name);
    if (!t) throw new Error(`unknown table ${name}`);
    return t;
  }
}
