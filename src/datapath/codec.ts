// DesiredDatapath parts → BPF map key/value Buffers, and BPF counters/events → plain values.
// Layouts come from abi.generated.ts (generated from bpf/include/abi.h); this file only decides what goes in them.
import type { Direction } from '../policy/model.js';
import type {
  CidrAtomEntry,
  DesiredEndpoint,
  IpcacheEntry,
  PeerKind,
  PolicyEntry,
  ServiceFrontend,
} from '../policy/desired.js';
import { formatIp, parseCidr, parseIp, type IpAddress } from '../policy/ip.js';
import type { MapEntry } from './datapath.js';
import {
  MOAT_ADDR_LEN,
  MOAT_CFG_UNKNOWN_ENDPOINT_DENY,
  MOAT_EP_AUDIT,
  MOAT_EP_CHECK_MAC,
  MOAT_EP_ISOLATE_EGRESS,
  MOAT_EP_ISOLATE_INGRESS,
  MOAT_IPV4_MAPPED_PREFIX,
  MOAT_MAX_GUARD_PORTS,
  MOAT_POLICY_EXACT_BITS,
  MOAT_POLICY_PROTO_BITS,
  MoatCounterKeyLayout,
  MoatCounterValueLayout,
  MoatDirection,
  MoatPeerKind,
  MoatReasonName,
  MoatVerdictName,
  decodeMoatCounterKey,
  decodeMoatCounterValue,
  decodeMoatEvent,
  encodeMoatCidrValue,
  encodeMoatConfig,
  encodeMoatEndpoint,
  encodeMoatIpcacheValue,
  encodeMoatLpmAddrKey,
  encodeMoatPolicyKey,
  encodeMoatPolicyValue,
  encodeMoatServiceKey,
  encodeMoatServiceValue,
} from './abi.generated.js';

const PORT_BITS = 16;
const MAC_LEN = 6;
const NSEC_PER_SEC = 1_000_000_000n;

/** An address prefix in the datapath's form: 16 bytes (IPv4 mapped into ::ffff:0:0/96) and a bit count. */
export interface AddrPrefix {
  readonly addr: Buffer;
  readonly prefixlen: number;
}

function addressBytes(address: IpAddress): Buffer {
  const bytes = Buffer.alloc(MOAT_ADDR_LEN);
  if (address.family === 4) {
    bytes.writeUInt16BE(0xffff, 10);
    bytes.writeUInt32BE(Number(address.value), 12);
    return bytes;
  }
  for (let i = 0; i < MOAT_ADDR_LEN; i++) {
    bytes[i] = Number((address.value >> BigInt((MOAT_ADDR_LEN - 1 - i) * 8)) & 0xffn);
  }
  return bytes;
}

/** "10.1.2.3" or "fd00::1" → the 16-byte datapath address. */
export function encodeAddress(text: string): Buffer {
  return addressBytes(parseIp(text));
}

/** A CIDR (or a bare address, meaning the host prefix) → masked 16-byte address and LPM prefix length. */
export function encodePrefix(text: string): AddrPrefix {
  const cidr = parseCidr(text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`);
  const addr = addressBytes({ family: cidr.family, value: cidr.network });
  return { addr, prefixlen: cidr.family === 4 ? MOAT_IPV4_MAPPED_PREFIX + cidr.prefixLength : cidr.prefixLength };
}

/** The 16-byte datapath address → canonical text (IPv4-mapped addresses print as IPv4). */
export function decodeAddress(bytes: Uint8Array): string {
  if (bytes.length !== MOAT_ADDR_LEN) throw new RangeError(`address: expected ${MOAT_ADDR_LEN} bytes, got ${bytes.length}`);
  const b = Buffer.from(bytes);
  const isMapped = b.subarray(0, 10).every((x) => x === 0) && b.readUInt16BE(10) === 0xffff;
  if (isMapped) return formatIp({ family: 4, value: BigInt(b.readUInt32BE(12)) });
  const value = b.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  return formatIp({ family: 6, value });
}

export function encodeLpmKey(cidr: string): Buffer {
  return encodeMoatLpmAddrKey(encodePrefix(cidr));
}

export function encodeIpcacheEntry(e: IpcacheEntry): MapEntry {
  return {
    key: encodeLpmKey(e.cidr),
    value: encodeMoatIpcacheValue({ identity: e.identity, endpointId: e.endpointId }),
  };
}

export function encodeCidrAtomEntry(e: CidrAtomEntry): MapEntry {
  return { key: encodeLpmKey(e.cidr), value: encodeMoatCidrValue({ atom: e.atom }) };
}

export const DIRECTION_CODE: Readonly<Record<Direction, MoatDirection>> = {
  ingress: MoatDirection.INGRESS,
  egress: MoatDirection.EGRESS,
};

const PEER_KIND_CODE: Readonly<Record<PeerKind, MoatPeerKind>> = {
  any: MoatPeerKind.ANY,
  identity: MoatPeerKind.IDENTITY,
  cidr: MoatPeerKind.CIDR,
};

function describePolicyEntry(e: PolicyEntry): string {
  return `policy entry (endpoint ${e.endpointId} ${e.direction} ${e.peerKind}/${e.peerId} rule ${e.ruleId})`;
}

/** The top `prefixLen` bits of a 16-bit port: the part of the key an LPM lookup compares. */
export function maskPort(port: number, prefixLen: number): number {
  return prefixLen === 0 ? 0 : port & ((0xffff << (PORT_BITS - prefixLen)) & 0xffff);
}

/**
 * Policy LPM entry: endpoint, peer and direction always match exactly; protocol null ("every protocol")
 * stops the prefix there, otherwise the prefix covers the protocol and the top portPrefixLen bits of the port.
 */
export function encodePolicyEntry(e: PolicyEntry): MapEntry {
  if (e.peerKind === 'any' && e.peerId !== 0) throw new RangeError(`${describePolicyEntry(e)}: peerId must be 0 for peer kind any`);
  if (!Number.isInteger(e.portPrefixLen) || e.portPrefixLen < 0 || e.portPrefixLen > PORT_BITS) {
    throw new RangeError(`${describePolicyEntry(e)}: portPrefixLen ${e.portPrefixLen} is not 0-${PORT_BITS}`);
  }
  const everyProtocol = e.protocol === null;
  const key = encodeMoatPolicyKey({
    prefixlen: everyProtocol ? MOAT_POLICY_EXACT_BITS : MOAT_POLICY_PROTO_BITS + e.portPrefixLen,
    endpointId: e.endpointId,
    peerId: e.peerId,
    direction: DIRECTION_CODE[e.direction],
    peerKind: PEER_KIND_CODE[e.peerKind],
    proto: e.protocol ?? 0,
    portBe: everyProtocol ? 0 : maskPort(e.port, e.portPrefixLen),
  });
  return { key, value: encodeMoatPolicyValue({ ruleId: e.ruleId }) };
}

/** endpoints map key: the host-side veth's ifindex. */
export function encodeEndpointKey(ifindex: number): Buffer {
  if (!Number.isInteger(ifindex) || ifindex <= 0 || ifindex > 0xffffffff) throw new RangeError(`endpoint ifindex ${ifindex} is invalid`);
  const key = Buffer.alloc(4);
  key.writeUInt32LE(ifindex);
  return key;
}

/** endpoints map value. With `mac`, frames from the pod must carry it as their source. */
export function encodeEndpoint(ep: DesiredEndpoint, mac?: Uint8Array): Buffer {
  const who = `endpoint ${ep.namespace}/${ep.name}`;
  if (ep.guardPorts.length > MOAT_MAX_GUARD_PORTS) {
    throw new RangeError(`${who}: ${ep.guardPorts.length} loopback-only ports, at most ${MOAT_MAX_GUARD_PORTS} fit`);
  }
  if (mac !== undefined && mac.length !== MAC_LEN) throw new RangeError(`${who}: MAC must be ${MAC_LEN} bytes, got ${mac.length}`);
  const flags =
    (ep.isolateIngress ? MOAT_EP_ISOLATE_INGRESS : 0) |
    (ep.isolateEgress ? MOAT_EP_ISOLATE_EGRESS : 0) |
    (ep.audit ? MOAT_EP_AUDIT : 0) |
    (mac !== undefined ? MOAT_EP_CHECK_MAC : 0);
  return encodeMoatEndpoint({
    endpointId: ep.endpointId,
    identity: ep.identity,
    flags,
    mac: mac ?? Buffer.alloc(MAC_LEN),
    nGuardPorts: ep.guardPorts.length,
    guardPorts: [...ep.guardPorts],
  });
}

export function encodeServiceFrontend(s: ServiceFrontend): MapEntry {
  const key = encodeMoatServiceKey({ addr: encodeAddress(s.ip), portBe: s.port, proto: s.protocol });
  return { key, value: encodeMoatServiceValue({ flags: 0 }) };
}

export interface DatapathSettings {
  readonly unknownEndpoint: 'allow' | 'deny';
  /** Emit one allow event in N; 0 = none. */
  readonly allowEventSample: number;
  /** Per-CPU event budget; 0 = unlimited. */
  readonly eventsPerSecond: number;
  readonly tcpTimeoutSeconds: number;
  readonly tcpClosingTimeoutSeconds: number;
  readonly otherTimeoutSeconds: number;
}

/** The config map's single moat_config value. */
export function encodeConfig(s: DatapathSettings): Buffer {
  const ns = (seconds: number, field: string): bigint => {
    if (!Number.isInteger(seconds) || seconds < 0) throw new RangeError(`config ${field}: ${seconds} is not a whole number of seconds`);
    return BigInt(seconds) * NSEC_PER_SEC;
  };
  return encodeMoatConfig({
    flags: s.unknownEndpoint === 'deny' ? MOAT_CFG_UNKNOWN_ENDPOINT_DENY : 0,
    allowEventSample: s.allowEventSample,
    eventsPerSec: s.eventsPerSecond,
    ctTcpTimeoutNs: ns(s.tcpTimeoutSeconds, 'tcpTimeoutSeconds'),
    ctTcpClosingTimeoutNs: ns(s.tcpClosingTimeoutSeconds, 'tcpClosingTimeoutSeconds'),
    ctOtherTimeoutNs: ns(s.otherTimeoutSeconds, 'otherTimeoutSeconds'),
  });
}

const DIRECTION_NAME: Readonly<Record<number, Direction>> = { [MoatDirection.INGRESS]: 'ingress', [MoatDirection.EGRESS]: 'egress' };

function directionName(code: number, where: string): Direction {
  const name = DIRECTION_NAME[code];
  if (name === undefined) throw new RangeError(`${where}: unknown direction ${code}`);
  return name;
}

function nameOf<T extends string>(names: Readonly<Record<number, T>>, code: number, what: string): T {
  const name = names[code];
  if (name === undefined) throw new RangeError(`${what}: unknown code ${code}`);
  return name;
}

export interface CounterSample {
  readonly endpointId: number;
  readonly direction: Direction;
  readonly verdict: (typeof MoatVerdictName)[number];
  readonly reason: (typeof MoatReasonName)[number];
  readonly packets: bigint;
  readonly bytes: bigint;
}

/** Per-CPU counter entries (key hex → one moat_counter_value per CPU) → totals per key. */
export function decodeCounters(perCpu: ReadonlyMap<string, readonly Buffer[]>): CounterSample[] {
  return [...perCpu].map(([hex, values]) => {
    const key = decodeMoatCounterKey(Buffer.from(hex, 'hex'));
    let packets = 0n;
    let bytes = 0n;
    for (const value of values) {
      const v = decodeMoatCounterValue(value.subarray(0, MoatCounterValueLayout.size));
      packets += v.packets;
      bytes += v.bytes;
    }
    return {
      endpointId: key.endpointId,
      direction: directionName(key.direction, MoatCounterKeyLayout.name),
      verdict: nameOf(MoatVerdictName, key.verdict, 'counter verdict'),
      reason: nameOf(MoatReasonName, key.reason, 'counter reason'),
      packets,
      bytes,
    };
  });
}

export interface FlowEvent {
  readonly timestampNs: bigint;
  readonly source: string;
  readonly destination: string;
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly protocol: number;
  readonly endpointId: number;
  readonly ifindex: number;
  readonly sourceIdentity: number;
  readonly destinationIdentity: number;
  readonly ruleId: number;
  readonly bytes: number;
  readonly direction: Direction;
  readonly verdict: (typeof MoatVerdictName)[number];
  readonly reason: (typeof MoatReasonName)[number];
}

/** One ring buffer record (moat_event) → a flow event with text addresses and names. */
export function decodeEvent(record: Buffer): FlowEvent {
  const e = decodeMoatEvent(record);
  return {
    timestampNs: e.tsNs,
    source: decodeAddress(e.saddr),
    destination: decodeAddress(e.daddr),
    sourcePort: e.sport,
    destinationPort: e.dport,
    protocol: e.proto,
    endpointId: e.endpointId,
    ifindex: e.ifindex,
    sourceIdentity: e.srcIdentity,
    destinationIdentity: e.dstIdentity,
    ruleId: e.ruleId,
    bytes: e.bytes,
    direction: directionName(e.direction, 'moat_event'),
    verdict: nameOf(MoatVerdictName, e.verdict, 'event verdict'),
    reason: nameOf(MoatReasonName, e.reason, 'event reason'),
  };
}
