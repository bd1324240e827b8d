// Pod interfaces of this node, found without the CNI's help and without entering any pod namespace: a
// host-side veth names its peer's namespace (IFLA_LINK_NETNSID) and ifindex (IFLA_LINK); the peer's
// addresses are listed from here with IFA_TARGET_NETNSID.
import { listAddrs, listLinks, type AddrRecord } from './native.js';
import type { PodInterface } from '../reconcile/plan.js';

function isPodAddress(addr: AddrRecord): boolean {
  if (addr.family === 4) return !addr.address.startsWith('127.');
  const lower = addr.address.toLowerCase();
  return lower !== '::1' && !/^fe[89ab]/.test(lower);
}

export function discoverPodInterfaces(): PodInterface[] {
  const veths = listLinks().filter((l) => l.kind === 'veth' && l.linkNetnsId !== undefined && l.peerIfindex !== undefined);
  const addressesByNetns = new Map<number, AddrRecord[]>();
  for (const nsid of new Set(veths.map((v) => v.linkNetnsId as number))) {
    addressesByNetns.set(nsid, listAddrs({ targetNetnsId: nsid }).filter(isPodAddress));
  }
  return veths.map((veth) => ({
    ifindex: veth.ifindex,
    ifname: veth.name,
    addresses: (addressesByNetns.get(veth.linkNetnsId as number) ?? [])
      .filter((a) => a.ifindex === veth.peerIfindex)
      .map((a) => a.address),
  }));
}
