// Crafted Ethernet frames for BPF_PROG_TEST_RUN: IPv4 (options, fragments), IPv6 (extension headers,
// fragments), TCP/UDP/SCTP/ICMP/ICMPv6, ARP, plus knobs that make headers lie (truncated, bad lengths).
// IPv4 header checksums are real; L4 checksums are left 0 (the datapath never checks them).
import { isIPv6 } from 'node:net';
import { encodeAddress } from '../../src/datapath/codec.js';

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;

export const IPPROTO = { ICMP: 1, TCP: 6, UDP: 17, ICMPV6: 58, SCTP: 132, GRE: 47 } as const;
export const NEXTHDR = { HOP: 0, ROUTING: 43, FRAGMENT: 44, DEST: 60, NONE: 59 } as const;
export const TCP = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;
export const ICMP4 = { ECHO_REPLY: 0, DEST_UNREACH: 3, ECHO: 8, TIME_EXCEEDED: 11 } as const;
export const ICMP6 = { DEST_UNREACH: 1, ECHO_REQUEST: 128, ECHO_REPLY: 129, RS: 133, RA: 134, NS: 135, NA: 136 } as const;

export const DEFAULT_SRC_MAC = '02:00:00:00:00:01';
export const DEFAULT_DST_MAC = '02:00:00:00:00:02';

export type L4 =
  | { readonly proto: 'tcp'; readonly sport: number; readonly dport: number; readonly flags?: number; readonly doff?: number }
  | { readonly proto: 'udp' | 'sctp'; readonly sport: number; readonly dport: number }
  /** ICMP for IPv4 sources, ICMPv6 for IPv6. `quote` is the IP packet an error message carries. */
  | { readonly proto: 'icmp'; readonly type: number; readonly code?: number; readonly id?: number; readonly quote?: Buffer }
  | { readonly proto: 'raw'; readonly number: number };

export interface Ipv6Extension {
  readonly type: 'hop' | 'dest' | 'routing';
  /** Length in 8-byte units beyond the first 8 bytes (the header's own length field). */
  readonly units?: number;
}

export interface Fragment {
  readonly id: number;
  /** Byte offset of this fragment's payload in the datagram; a multiple of 8. */
  readonly offset: number;
  readonly more: boolean;
}

export interface PacketSpec {
  readonly src: string;
  readonly dst: string;
  readonly l4: L4;
  readonly srcMac?: string;
  readonly dstMac?: string;
  /** Bytes after the L4 header. */
  readonly payload?: Buffer;
  /** IPv4 options, padded with zeros to a multiple of 4. */
  readonly ipv4Options?: Buffer;
  readonly ipv6Extensions?: readonly Ipv6Extension[];
  readonly fragment?: Fragment;
  /** Cut the L4 bytes (header + payload) to [from, to) — for building fragments. */
  readonly l4Slice?: readonly [number, number];
  /** Lies: values written into headers as they are, to build malformed packets. */
  readonly ihl?: number;
  readonly totalLength?: number;
  readonly payloadLength?: number;
  readonly version?: number;
}

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-f]{2}$/i.test(p))) throw new Error(`bad MAC "${mac}"`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

export function ether(ethertype: number, payload: Buffer, srcMac = DEFAULT_SRC_MAC, dstMac = DEFAULT_DST_MAC): Buffer {
  const header = Buffer.alloc(14);
  macBytes(dstMac).copy(header, 0);
  macBytes(srcMac).copy(header, 6);
  header.writeUInt16BE(ethertype, 12);
  return Buffer.concat([header, payload]);
}

/** An ARP request (who-has dst tell src), as a pod sends before talking to its gateway. */
export function arpFrame(srcIp: string, dstIp: string, srcMac = DEFAULT_SRC_MAC): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0); // Ethernet
  arp.writeUInt16BE(ETH_P_IP, 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(1, 6); // request
  macBytes(srcMac).copy(arp, 8);
  encodeAddress(srcIp).copy(arp, 14, 12);
  encodeAddress(dstIp).copy(arp, 24, 12);
  return ether(ETH_P_ARP, arp, srcMac, 'ff:ff:ff:ff:ff:ff');
}

function protoNumber(l4: L4, v6: boolean): number {
  switch (l4.proto) {
    case 'tcp':
      return IPPROTO.TCP;
    case 'udp':
      return IPPROTO.UDP;
    case 'sctp':
      return IPPROTO.SCTP;
    case 'icmp':
      return v6 ? IPPROTO.ICMPV6 : IPPROTO.ICMP;
    case 'raw':
      return l4.number;
  }
}

function l4Header(l4: L4): Buffer {
  switch (l4.proto) {
    case 'tcp': {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(l4.sport, 0);
      h.writeUInt16BE(l4.dport, 2);
      h.writeUInt32BE(1000, 4);
      h[12] = (l4.doff ?? 5) << 4;
      h[13] = l4.flags ?? TCP.ACK;
      h.writeUInt16BE(65535, 14);
      return h;
    }
    case 'udp': {
      const h = Buffer.alloc(8);
      h.writeUInt16BE(l4.sport, 0);
      h.writeUInt16BE(l4.dport, 2);
      return h;
    }
    case 'sctp': {
      const h = Buffer.alloc(12);
      h.writeUInt16BE(l4.sport, 0);
      h.writeUInt16BE(l4.dport, 2);
      h.writeUInt32BE(0x1234, 4); // verification tag
      return h;
    }
    case 'icmp': {
      const h = Buffer.alloc(8);
      h[0] = l4.type;
      h[1] = l4.code ?? 0;
      h.writeUInt16BE(l4.id ?? 0, 4);
      return l4.quote ? Buffer.concat([h, l4.quote]) : h;
    }
    case 'raw':
      return Buffer.alloc(0);
  }
}

function ipv4Checksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function ipv4(spec: PacketSpec, payload: Buffer): Buffer {
  const options = spec.ipv4Options ?? Buffer.alloc(0);
  const paddedOptions = Buffer.concat([options, Buffer.alloc((4 - (options.length % 4)) % 4)]);
  const h = Buffer.alloc(20 + paddedOptions.length);
  h[0] = ((spec.version ?? 4) << 4) | (spec.ihl ?? h.length / 4);
  h.writeUInt16BE(spec.totalLength ?? h.length + payload.length, 2);
  const frag = spec.fragment;
  h.writeUInt16BE(frag?.id ?? 0x4242, 4);
  h.writeUInt16BE(frag ? (frag.more ? 0x2000 : 0) | (frag.offset / 8) : 0x4000 /* DF */, 6);
  h[8] = 64;
  h[9] = protoNumber(spec.l4, false);
  encodeAddress(spec.src).copy(h, 12, 12);
  encodeAddress(spec.dst).copy(h, 16, 12);
  paddedOptions.copy(h, 20);
  h.writeUInt16BE(ipv4Checksum(h), 10);
  return Buffer.concat([h, payload]);
}

const EXT_TYPE: Record<Ipv6Extension['type'], number> = { hop: NEXTHDR.HOP, dest: NEXTHDR.DEST, routing: NEXTHDR.ROUTING };

function ipv6(spec: PacketSpec, payload: Buffer): Buffer {
  // Chain: fixed header → extensions → fragment header → L4; each header names the next.
  const chain: { type: number; bytes: Buffer }[] = (spec.ipv6Extensions ?? []).map((ext) => {
    const units = ext.units ?? 0;
    const bytes = Buffer.alloc(8 + units * 8);
    bytes[1] = units;
    if (ext.type === 'routing') bytes[2] = 4; // segment routing type, 0 segments left: nothing to process
    return { type: EXT_TYPE[ext.type], bytes };
  });
  if (spec.fragment) {
    const bytes = Buffer.alloc(8);
    bytes.writeUInt16BE(spec.fragment.offset | (spec.fragment.more ? 1 : 0), 2);
    bytes.writeUInt32BE(spec.fragment.id, 4);
    chain.push({ type: NEXTHDR.FRAGMENT, bytes });
  }
  const l4Type = protoNumber(spec.l4, true);
  chain.forEach((link, i) => {
    link.bytes[0] = chain[i + 1]?.type ?? l4Type;
  });
  const extensions = Buffer.concat(chain.map((c) => c.bytes));
  const h = Buffer.alloc(40);
  h.writeUInt32BE(((spec.version ?? 6) << 28) >>> 0, 0);
  h.writeUInt16BE(spec.payloadLength ?? extensions.length + payload.length, 4);
  h[6] = chain[0]?.type ?? l4Type;
  h[7] = 64;
  encodeAddress(spec.src).copy(h, 8);
  encodeAddress(spec.dst).copy(h, 24);
  return Buffer.concat([h, extensions, payload]);
}

/** The IP packet (no Ethernet header): also what an ICMP error quotes. */
export function ipPacket(spec: PacketSpec): Buffer {
  const v6 = isIPv6(spec.src);
  const l4 = Buffer.concat([l4Header(spec.l4), spec.payload ?? Buffer.alloc(0)]);
  const body = spec.l4Slice ? l4.subarray(spec.l4Slice[0], spec.l4Slice[1]) : l4;
  return v6 ? ipv6(spec, body) : ipv4(spec, body);
}

export function buildPacket(spec: PacketSpec): Buffer {
  return ether(isIPv6(spec.src) ? ETH_P_IPV6 : ETH_P_IP, ipPacket(spec), spec.srcMac, spec.dstMac);
}

/** A datagram split in two fragments at `splitAt` bytes of its L4 data (a multiple of 8). */
export function buildFragments(spec: PacketSpec, id: number, splitAt: number): [first: Buffer, later: Buffer] {
  if (splitAt % 8 !== 0) throw new Error(`fragment split ${splitAt} is not a multiple of 8`);
  return [
    buildPacket({ ...spec, fragment: { id, offset: 0, more: true }, l4Slice: [0, splitAt] }),
    buildPacket({ ...spec, fragment: { id, offset: splitAt, more: false }, l4Slice: [splitAt, Number.MAX_SAFE_INTEGER] }),
  ];
}
