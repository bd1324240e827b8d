// Make the datapath equal a plan, in an order that never opens traffic that neither the old nor the new
// state allows: lookups and rules first, then the endpoints that use them, then hooks; removals last.
import type { Datapath, MapEntry, TableName } from '../datapath/datapath.js';
import type { DatapathPlan } from './plan.js';

export interface TableChange {
  readonly upserts: readonly MapEntry[];
  readonly deletes: readonly Buffer[];
}

export interface ReconcileResult {
  readonly changes: Readonly<Record<TableName, { upserts: number; deletes: number }>>;
  readonly attached: readonly number[];
  readonly detached: readonly number[];
}

/** Entries to write (new or different value) and keys to remove, comparing by encoded key. */
export function diffTable(actual: ReadonlyMap<string, Buffer>, desired: readonly MapEntry[]): TableChange {
  const wanted = new Map<string, MapEntry>();
  for (const entry of desired) wanted.set(entry.key.toString('hex'), entry);
  const upserts = [...wanted].filter(([hex, e]) => !actual.get(hex)?.equals(e.value)).map(([, e]) => e);
  const deletes = [...actual.keys()].filter((hex) => !wanted.has(hex)).map((hex) => Buffer.from(hex, 'hex'));
  return { upserts, deletes };
}

const LOOKUP_TABLES: readonly TableName[] = ['ipcache', 'cidr_atoms', 'services', 'policy'];

export function reconcile(datapath: Datapath, plan: DatapathPlan): ReconcileResult {
  const changeOf = (table: TableName): TableChange => diffTable(datapath.read(table), plan.tables[table]);
  const lookups = LOOKUP_TABLES.map((table) => [table, changeOf(table)] as const);
  const endpoints = changeOf('endpoints');

  for (const [table, change] of lookups) datapath.write(table, change.upserts, []);
  datapath.write('endpoints', endpoints.upserts, []);

  const hooked = new Set(datapath.attachments().map((a) => a.ifindex));
  const wantHooked = new Set(plan.hooks.map((h) => h.ifindex));
  const attached: number[] = [];
  for (const hook of plan.hooks) {
    if (hooked.has(hook.ifindex)) continue;
    datapath.attach(hook.ifindex, hook.ifname);
    attached.push(hook.ifindex);
  }

  datapath.write('endpoints', [], endpoints.deletes);
  const detached = [...hooked].filter((ifindex) => !wantHooked.has(ifindex));
  for (const ifindex of detached) datapath.detach(ifindex);
  for (const [table, change] of [...lookups].reverse()) datapath.write(table, [], change.deletes);

  const changes = Object.fromEntries(
    [...lookups, ['endpoints', endpoints] as const].map(([t, c]) => [t, { upserts: c.upserts.length, deletes: c.deletes.length }]),
  ) as Record<TableName, { upserts: number; deletes: number }>;
  return { changes, attached, detached };
}
