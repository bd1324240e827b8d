// IPv4/IPv6 addresses and CIDRs as numbers: parse strictly, print canonically, test containment.
// Pure (no node:net) so the compiler, the evaluator and the parsers share one notion of "the same address".

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  readonly value: bigint;
}

export interface Cidr {
  readonly family: IpFamily;
  /** The network address: host bits are always zero. */
  readonly network: bigint;
  readonly prefixLength: number;
}

export class IpSyntaxError extends Error {
  override readonly name = 'IpSyntaxError';
}

const BITS: Record<IpFamily, number> = { 4: 32, 6: 128 };

export function familyBits(family: IpFamily): number {
  return BITS[family];
}

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4Value(text: string, whole: string): bigint {
  const parts = text.split('.');
  if (parts.length !== 4) throw new IpSyntaxError(`"${whole}" is not an IPv4 address: expected 4 dot-separated numbers`);
  let value = 0n;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) {
      throw new IpSyntaxError(`"${whole}" is not an IP address: "${part}" must be a decimal number 0-255 without leading zeros`);
    }
    const octet = Number(part);
    if (octet > 255) throw new IpSyntaxError(`"${whole}" is not an IP address: ${part} is larger than 255`);
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseHexGroups(text: string, whole: string): bigint[] {
  if (text === '') return [];
  const groups: bigint[] = [];
  const parts = text.split(':');
  parts.forEach((part, i) => {
    const isLast = i === parts.length - 1;
    if (isLast && part.includes('.')) {
      const v4 = parseIpv4Value(part, whole);
      groups.push(v4 >> 16n, v4 & 0xffffn);
      return;
    }
    if (!HEX_GROUP.test(part)) throw new IpSyntaxError(`"${whole}" is not an IPv6 address: "${part}" is not a group of 1-4 hex digits`);
    groups.push(BigInt(parseInt(part, 16)));
  });
  return groups;
}

function parseIpv6Value(text: string): bigint {
  if (text.includes('%')) throw new IpSyntaxError(`"${text}" is not an IP address: zone indexes are not allowed`);
  const halves = text.split('::');
  if (halves.length > 2) throw new IpSyntaxError(`"${text}" is not an IPv6 address: "::" may appear only once`);
  const head = parseHexGroups(halves[0] ?? '', text);
  const tail = halves.length === 2 ? parseHexGroups(halves[1] ?? '', text) : [];
  const present = head.length + tail.length;
  if (halves.length === 2 ? present > 7 : present !== 8) {
    throw new IpSyntaxError(`"${text}" is not an IPv6 address: wrong number of groups`);
  }
  const groups = [...head, ...Array<bigint>(8 - present).fill(0n), ...tail];
  return groups.reduce((acc, group) => (acc << 16n) | group, 0n);
}

/** Parses a v4 or v6 address; throws IpSyntaxError naming the text. */
export function parseIp(text: string): IpAddress {
  if (text.includes(':')) return { family: 6, value: parseIpv6Value(text) };
  return { family: 4, value: parseIpv4Value(text, text) };
}

export function tryParseIp(text: string): IpAddress | undefined {
  try {
    return parseIp(text);
  } catch (error) {
    if (error instanceof IpSyntaxError) return undefined;
    throw error;
  }
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => ((value >> shift) & 0xffn).toString()).join('.');
}

/** RFC 5952: lowercase, no leading zeros, the longest run (≥2) of zero groups compressed, leftmost on ties. */
function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt((7 - i) * 16)) & 0xffffn));
  const isV4Mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isV4Mapped) return `::ffff:${formatIpv4(value & 0xffffffffn)}`;
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function formatIp(address: IpAddress): string {
  return address.family === 4 ? formatIpv4(address.value) : formatIpv6(address.value);
}

/** The canonical text of an address (throws IpSyntaxError on bad input). */
export function canonicalIp(text: string): string {
  return formatIp(parseIp(text));
}

function hostMask(family: IpFamily, prefixLength: number): bigint {
  return (1n << BigInt(familyBits(family) - prefixLength)) - 1n;
}

/**
 * Parses "addr/len". Host bits may be set ("10.0.0.1/8", as the API server accepts); the result is the
 * network address. `hadHostBits` lets callers warn about it.
 */
export function parseCidr(text: string): Cidr & { readonly hadHostBits: boolean } {
  const slash = text.indexOf('/');
  if (slash < 0) throw new IpSyntaxError(`"${text}" is not a CIDR: missing "/prefix-length"`);
  const address = parseIp(text.slice(0, slash));
  const lengthText = text.slice(slash + 1);
  const bits = familyBits(address.family);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText) || Number(lengthText) > bits) {
    throw new IpSyntaxError(`"${text}" is not a CIDR: prefix length must be a number 0-${bits}`);
  }
  const prefixLength = Number(lengthText);
  const mask = hostMask(address.family, prefixLength);
  return {
    family: address.family,
    network: address.value & ~mask,
    prefixLength,
    hadHostBits: (address.value & mask) !== 0n,
  };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp({ family: cidr.family, value: cidr.network })}/${cidr.prefixLength}`;
}

/** The canonical text of a CIDR, host bits cleared (throws IpSyntaxError on bad input). */
export function canonicalCidr(text: string): string {
  return formatCidr(parseCidr(text));
}

/** The single-address CIDR of an address (/32 or /128). */
export function hostCidr(address: IpAddress): Cidr {
  return { family: address.family, network: address.value, prefixLength: familyBits(address.family) };
}

export function cidrContainsIp(cidr: Cidr, address: IpAddress): boolean {
  if (cidr.family !== address.family) return false;
  return (address.value & ~hostMask(cidr.family, cidr.prefixLength)) === cidr.network;
}

/** True when every address of `inner` is in `outer` (equal CIDRs included). */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefixLength >= outer.prefixLength && cidrContainsIp(outer, { family: inner.family, value: inner.network });
}
