// Address plan of a kit topology, all inside 10.B.0.0/16 and fd00:B::/32 (B = addressBlock) and only
// ever configured inside the kit's namespaces. Node n (0-based) owns 10.B.(n+1).0/24 and
// fd00:B:(n+1)::/64 like a Flannel/Calico node's pod CIDR; its own address is .1 / ::1; pods get
// .10, .11, … / ::10, ::11, … (the v6 suffix reads like the v4 one). Node uplinks share 10.B.255.0/24.
// Every string is in canonical form (what `ip` and the kernel print), so tests can compare texts.

export interface DualAddress {
  v4: string;
  v6: string;
}

const FIRST_POD_HOST = 10;
const MAX_POD_HOST = 250;
const UPLINK_GROUP = 255;

function checkBlock(block: number): void {
  if (!Number.isInteger(block) || block < 1 || block > 254) {
    throw new Error(`addressBlock ${block}: must be an integer in 1..254 (second octet of 10.B.0.0/16)`);
  }
}

export function podCidr(block: number, node: number): DualAddress {
  checkBlock(block);
  return { v4: `10.${block}.${node + 1}.0/24`, v6: `fd00:${block}:${node + 1}::/64` };
}

export function nodeAddress(block: number, node: number): DualAddress {
  checkBlock(block);
  return { v4: `10.${block}.${node + 1}.1`, v6: `fd00:${block}:${node + 1}::1` };
}

export function podAddress(block: number, node: number, slot: number): DualAddress {
  checkBlock(block);
  const host = FIRST_POD_HOST + slot;
  if (!Number.isInteger(slot) || slot < 0 || host > MAX_POD_HOST) {
    throw new Error(`pod slot ${slot} on node ${node}: at most ${MAX_POD_HOST - FIRST_POD_HOST + 1} pods per node`);
  }
  return { v4: `10.${block}.${node + 1}.${host}`, v6: `fd00:${block}:${node + 1}::${host}` };
}

export function uplinkAddress(block: number, node: number): DualAddress {
  checkBlock(block);
  return { v4: `10.${block}.${UPLINK_GROUP}.${node + 1}`, v6: `fd00:${block}:ff::${node + 1}` };
}

/** Calico's pod gateway: a link-local v4 address answered by proxy ARP, and the link-local v6
 *  address of a host veth whose MAC is ee:ee:ee:ee:ee:ee. */
export const ROUTED_GATEWAY: DualAddress = { v4: '169.254.1.1', v6: 'fe80::ecee:eeff:feee:eeee' };
export const ROUTED_HOST_MAC = 'ee:ee:ee:ee:ee:ee';
