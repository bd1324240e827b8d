// What must change in the maps to go from one DesiredDatapath to the next. Entries are compared by the
// key they occupy in their BPF map, so an unchanged entry is never rewritten and a changed value is one
// upsert (not a delete plus an insert that would open a gap).
import type {
  CidrAtomEntry,
  DesiredDatapath,
  DesiredEndpoint,
  IpcacheEntry,
  PolicyEntry,
  ServiceFrontend,
} from './desired.js';
import { maskPort } from './port-prefixes.js';

export interface TableDiff<T> {
  /** New entries and entries whose value changed (the next version). */
  readonly upserts: readonly T[];
  /** Entries whose key is gone (the previous version). */
  readonly deletes: readonly T[];
}

export interface DatapathDiff {
  readonly endpoints: TableDiff<DesiredEndpoint>;
  readonly ipcache: TableDiff<IpcacheEntry>;
  readonly cidrAtoms: TableDiff<CidrAtomEntry>;
  readonly policy: TableDiff<PolicyEntry>;
  readonly services: TableDiff<ServiceFrontend>;
  readonly hostGuardPorts: TableDiff<number>;
}

interface TableShape<T> {
  /** The map key the entry occupies. */
  readonly key: (entry: T) => string;
  /** Everything stored under the key. */
  readonly value: (entry: T) => string;
}

const ENDPOINTS: TableShape<DesiredEndpoint> = {
  key: (e) => `${e.namespace}/${e.name}`,
  value: (e) => JSON.stringify([e.endpointId, e.identity, e.ips, e.isolateIngress, e.isolateEgress, e.audit, e.guardPorts]),
};

const IPCACHE: TableShape<IpcacheEntry> = {
  key: (e) => e.cidr,
  value: (e) => `${e.identity}|${e.endpointId}`,
};

const CIDR_ATOMS: TableShape<CidrAtomEntry> = {
  key: (e) => e.cidr,
  value: (e) => String(e.atom),
};

// Two entries differing only in port bits below their prefix share one map slot; "every protocol"
// entries stop before the protocol byte, so their port fields are not part of the key at all.
const POLICY: TableShape<PolicyEntry> = {
  key: (e) => {
    const prefixLen = e.protocol === null ? 0 : e.portPrefixLen;
    return [e.endpointId, e.direction, e.peerKind, e.peerId, e.protocol ?? '*', maskPort(e.port, prefixLen), prefixLen].join('|');
  },
  value: (e) => String(e.ruleId),
};

const SERVICES: TableShape<ServiceFrontend> = {
  key: (e) => `${e.ip}|${e.port}|${e.protocol}`,
  value: () => '',
};

const PORTS: TableShape<number> = {
  key: (port) => String(port),
  value: () => '',
};

function diffTable<T>(shape: TableShape<T>, previous: readonly T[], next: readonly T[]): TableDiff<T> {
  const before = new Map(previous.map((entry) => [shape.key(entry), entry]));
  const after = new Map(next.map((entry) => [shape.key(entry), entry]));
  const upserts = [...after].filter(([key, entry]) => {
    const old = before.get(key);
    return old === undefined || shape.value(old) !== shape.value(entry);
  });
  const deletes = [...before].filter(([key]) => !after.has(key));
  return { upserts: upserts.map(([, entry]) => entry), deletes: deletes.map(([, entry]) => entry) };
}

/** The changes from `previous` (undefined: empty maps) to `next`, table by table. */
export function diff(previous: DesiredDatapath | undefined, next: DesiredDatapath): DatapathDiff {
  return {
    endpoints: diffTable(ENDPOINTS, previous?.endpoints ?? [], next.endpoints),
    ipcache: diffTable(IPCACHE, previous?.ipcache ?? [], next.ipcache),
    cidrAtoms: diffTable(CIDR_ATOMS, previous?.cidrAtoms ?? [], next.cidrAtoms),
    policy: diffTable(POLICY, previous?.policy ?? [], next.policy),
    services: diffTable(SERVICES, previous?.services ?? [], next.services),
    hostGuardPorts: diffTable(PORTS, previous?.hostGuardPorts ?? [], next.hostGuardPorts ?? []),
  };
}

/** Whether a diff changes nothing. */
export function isEmptyDiff(changes: DatapathDiff): boolean {
  return Object.values(changes).every((table: TableDiff<unknown>) => table.upserts.length === 0 && table.deletes.length === 0);
}
