// Per-packet cost of the TC datapath through BPF_PROG_TEST_RUN, as the policy map grows (10 / 1k / 10k / 100k
// entries, with as many ipcache identities). Not a test: it prints the figures (ns per packet, the kernel's
// average over `repeat` runs, median of several rounds). Needs root and the built object and addon:
//   make -C bpf && npm run build:native && npx tsc -p tsconfig.build.json && node dist/bench/bpf-cost.js
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfObject, type BpfMap, type BpfProgram } from '../src/datapath/native.js';
import {
  encodeConfig,
  encodeEndpoint,
  encodeEndpointKey,
  encodeIpcacheEntry,
  encodePolicyEntry,
} from '../src/datapath/codec.js';
import type { DesiredEndpoint, PolicyEntry } from '../src/policy/desired.js';
import { buildPacket, TCP } from '../test/helpers/packets.js';

/** The repository root: the nearest directory above this file with a package.json (from bench/ or dist/bench/). */
function repositoryRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'package.json'))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`bpf-cost: no package.json above ${fileURLToPath(import.meta.url)}`);
    directory = parent;
  }
  return directory;
}

const ROOT = repositoryRoot();
const OBJECT = join(ROOT, 'build/bpf/moat_tc.bpf.o');
const SIZES = [10, 1_000, 10_000, 100_000];
const REPEAT = 200_000;
const ROUNDS = 5;
const LOOPBACK_IFINDEX = 1;
const FORWARDED_INGRESS_IFINDEX = 7;
const POD = '10.255.0.1';
const ENDPOINT_ID = 1;
const WRITE_CHUNK = 4096;

const endpoint: DesiredEndpoint = {
  namespace: 'bench',
  name: 'server',
  endpointId: ENDPOINT_ID,
  identity: 2,
  ips: [POD],
  isolateIngress: true,
  isolateEgress: true,
  audit: false,
  guardPorts: [15088],
};

/** Peer i: 10.x.y.z from 10.0.0.1 on, with identity 1000 + i. */
function peerIp(i: number): string {
  const n = i + 1;
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

function writeAll(map: BpfMap, entries: readonly { key: Buffer; value: Buffer }[]): void {
  for (let start = 0; start < entries.length; start += WRITE_CHUNK) {
    const chunk = entries.slice(start, start + WRITE_CHUNK);
    map.batchUpdate(chunk.map((e) => e.key), chunk.map((e) => e.value));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

interface Scenario {
  readonly name: string;
  readonly program: 'moat_to_pod' | 'moat_from_pod';
  readonly frame: Buffer;
}

function measure(program: BpfProgram, frame: Buffer): number {
  const ctx = Buffer.alloc(192);
  ctx.writeUInt32LE(FORWARDED_INGRESS_IFINDEX, 36);
  ctx.writeUInt32LE(LOOPBACK_IFINDEX, 40);
  return median(Array.from({ length: ROUNDS }, () => program.testRun({ data: frame, ctxIn: ctx, repeat: REPEAT }).durationNs));
}

function benchSize(entries: number): Record<string, number> {
  const object = BpfObject.open(OBJECT, { maxEntries: { policy: entries + 16, ipcache: entries + 16 } }).load();
  try {
    object.map('config').update(Buffer.alloc(4), encodeConfig({
      unknownEndpoint: 'allow', allowEventSample: 0, eventsPerSecond: 1000,
      tcpTimeoutSeconds: 21600, tcpClosingTimeoutSeconds: 10, otherTimeoutSeconds: 60,
    }));
    object.map('endpoints').update(encodeEndpointKey(LOOPBACK_IFINDEX), encodeEndpoint(endpoint));
    const ipcache = [{ cidr: `${POD}/32`, identity: endpoint.identity, endpointId: ENDPOINT_ID }];
    const policy: PolicyEntry[] = [];
    for (let i = 0; i < entries; i += 1) {
      ipcache.push({ cidr: `${peerIp(i)}/32`, identity: 1000 + i, endpointId: 0 });
      policy.push({
        endpointId: ENDPOINT_ID, direction: i % 2 ? 'egress' : 'ingress', peerKind: 'identity', peerId: 1000 + i,
        protocol: 6, port: 8000 + (i % 64), portPrefixLen: 16, ruleId: i + 1,
      });
    }
    writeAll(object.map('ipcache'), ipcache.map(encodeIpcacheEntry));
    writeAll(object.map('policy'), policy.map(encodePolicyEntry));

    const peer = Math.floor(entries / 2) & ~1; // an even index: an ingress rule
    const allowedPort = 8000 + (peer % 64);
    const syn = (sport: number, dport: number) => buildPacket({ src: peerIp(peer), dst: POD, l4: { proto: 'tcp', sport, dport, flags: TCP.SYN } });
    const scenarios: Scenario[] = [
      { name: 'allow (policy hit, ct refresh)', program: 'moat_to_pod', frame: syn(40000, allowedPort) },
      { name: 'deny (3 policy misses)', program: 'moat_to_pod', frame: syn(40000, 9) },
      { name: 'reply (ct hit)', program: 'moat_from_pod', frame: buildPacket({ src: POD, dst: peerIp(peer), l4: { proto: 'tcp', sport: allowedPort, dport: 40000, flags: TCP.ACK } }) },
      { name: 'guarded port', program: 'moat_to_pod', frame: syn(40000, 15088) },
    ];
    const result: Record<string, number> = {};
    for (const scenario of scenarios) result[scenario.name] = measure(object.program(scenario.program), scenario.frame);
    return result;
  } finally {
    object.close();
  }
}

function main(): void {
  if (process.getuid?.() !== 0) throw new Error('bpf-cost: needs root (BPF_PROG_LOAD, BPF_PROG_TEST_RUN)');
  execFileSync('make', ['-C', join(ROOT, 'bpf'), '../build/bpf/moat_tc.bpf.o'], { stdio: 'inherit' });
  const rows: Record<string, Record<string, number>> = {};
  for (const size of SIZES) rows[`${size} entries`] = benchSize(size);
  console.log(`ns per packet through BPF_PROG_TEST_RUN (median of ${ROUNDS} x ${REPEAT} runs, 64-byte TCP frames)`);
  console.table(rows);
  console.log(JSON.stringify({ bench: 'bpf-cost', repeat: REPEAT, rounds: ROUNDS, nsPerPacket: rows }));
}

main();
