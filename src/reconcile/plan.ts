// Desired state + the pod interfaces found on this node → the exact content every table must have and the
// set of devices to hook. Pure: the reconciler does the I/O.
import type { DesiredDatapath, DesiredEndpoint } from '../policy/desired.js';
import { canonicalIp } from '../policy/ip.js';
import {
  encodeCidrAtomEntry,
  encodeEndpoint,
  encodeEndpointKey,
  encodeIpcacheEntry,
  encodePolicyEntry,
  encodeServiceFrontend,
} from '../datapath/codec.js';
import type { MapEntry, TableName } from '../datapath/datapath.js';

/** A host-side veth whose peer lives in another namespace, with the peer's addresses. */
export interface PodInterface {
  readonly ifindex: number;
  readonly ifname: string;
  readonly addresses: readonly string[];
}

export interface Binding {
  readonly endpoint: DesiredEndpoint;
  readonly iface: PodInterface;
}

export interface DatapathPlan {
  readonly tables: Readonly<Record<TableName, readonly MapEntry[]>>;
  /** Devices that must carry moat's programs. */
  readonly hooks: readonly PodInterface[];
  readonly bindings: readonly Binding[];
  /** Local pods whose addresses sit on no veth of this node (not enforceable here). */
  readonly unbound: readonly DesiredEndpoint[];
  /** Veths that match no pod; hooked only with unknownEndpoint=deny. */
  readonly unknown: readonly PodInterface[];
}

export interface PlanOptions {
  readonly unknownEndpoint: 'allow' | 'deny';
}

export function planDatapath(desired: DesiredDatapath, interfaces: readonly PodInterface[], options: PlanOptions): DatapathPlan {
  const ifaceByAddress = new Map<string, PodInterface>();
  for (const iface of interfaces) for (const address of iface.addresses) ifaceByAddress.set(canonicalIp(address), iface);

  const bindings: Binding[] = [];
  const unbound: DesiredEndpoint[] = [];
  const boundIfindexes = new Set<number>();
  for (const endpoint of desired.endpoints) {
    const iface = endpoint.ips.map((ip) => ifaceByAddress.get(canonicalIp(ip))).find((i) => i !== undefined);
    if (iface === undefined || boundIfindexes.has(iface.ifindex)) {
      unbound.push(endpoint);
      continue;
    }
    boundIfindexes.add(iface.ifindex);
    bindings.push({ endpoint, iface });
  }
  const unknown = interfaces.filter((i) => !boundIfindexes.has(i.ifindex));

  const tables: Record<TableName, MapEntry[]> = {
    endpoints: bindings.map(({ endpoint, iface }) => ({ key: encodeEndpointKey(iface.ifindex), value: encodeEndpoint(endpoint) })),
    ipcache: desired.ipcache.map(encodeIpcacheEntry),
    cidr_atoms: desired.cidrAtoms.map(encodeCidrAtomEntry),
    policy: desired.policy.map(encodePolicyEntry),
    services: desired.services.map(encodeServiceFrontend),
  };
  const hooks = [...bindings.map((b) => b.iface), ...(options.unknownEndpoint === 'deny' ? unknown : [])];
  return { tables, hooks, bindings, unbound, unknown };
}
