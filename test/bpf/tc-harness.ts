// Loads moat_tc.bpf.o for BPF_PROG_TEST_RUN: maps filled through the codec, packets run through either hook,
// verdicts and counters read back. test_run resolves ctx ifindex in the caller's namespace, so the endpoint under
// test is keyed by the loopback device (ifindex 1, always present).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BpfObject, possibleCpus, type BpfMap, type BpfProgram } from '../../src/datapath/native.js';
import {
  decodeCounters,
  encodeCidrAtomEntry,
  encodeConfig,
  encodeEndpoint,
  encodeEndpointKey,
  encodeIpcacheEntry,
  encodePolicyEntry,
  encodeServiceFrontend,
  type CounterSample,
  type DatapathSettings,
} from '../../src/datapath/codec.js';
import type { CidrAtomEntry, DesiredEndpoint, IpcacheEntry, PolicyEntry, ServiceFrontend } from '../../src/policy/desired.js';
import type { Direction } from '../../src/policy/model.js';

const ROOT = join(import.meta.dirname, '../..');
export const TC_OBJECT = join(ROOT, 'build/bpf/moat_tc.bpf.o');

export const LOOPBACK_IFINDEX = 1;
/** Any device other than "none": what a packet forwarded from another interface carries as ingress_ifindex. */
export const FORWARDED_INGRESS_IFINDEX = 7;

export const TC_ALLOW = -1; // TC_ACT_UNSPEC = TCX_NEXT
export const TC_DROP = 2;

const SK_BUFF_SIZE = 192;
const SK_BUFF_INGRESS_IFINDEX = 36;
const SK_BUFF_IFINDEX = 40;

/** Why privileged BPF suites cannot run here, or undefined when they can. Under CI they must run. */
export function bpfUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (BPF_PROG_LOAD, BPF_PROG_TEST_RUN)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'kernel has no BTF';
  try {
    possibleCpus(); // loads the addon
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

export function skipBpfSuite(): boolean {
  const reason = bpfUnavailableReason();
  if (reason === undefined || process.env.CI === 'true') return false;
  console.warn(`skipping BPF datapath suite: ${reason}`);
  return true;
}

export type Hook = 'fromPod' | 'toPod';

export interface RunOptions {
  /** skb->ingress_ifindex; 0 means locally originated by the node. Defaults to a forwarded packet. */
  ingressIfindex?: number;
  repeat?: number;
}

/** The maps user space writes, as DesiredDatapath parts. */
export interface TcState {
  endpoint?: { ep: DesiredEndpoint; mac?: Uint8Array };
  ipcache?: readonly IpcacheEntry[];
  cidrAtoms?: readonly CidrAtomEntry[];
  policy?: readonly PolicyEntry[];
  services?: readonly ServiceFrontend[];
  settings?: Partial<DatapathSettings>;
}

export const DEFAULT_SETTINGS: DatapathSettings = {
  unknownEndpoint: 'allow',
  allowEventSample: 0,
  eventsPerSecond: 0,
  tcpTimeoutSeconds: 21600,
  tcpClosingTimeoutSeconds: 10,
  otherTimeoutSeconds: 60,
};

const WRITABLE_MAPS = ['endpoints', 'ipcache', 'cidr_atoms', 'policy', 'services'] as const;
const STATE_MAPS = ['ct_tcp', 'ct_other', 'frags', 'counters'] as const;

export class TcHarness {
  private constructor(
    private readonly object: BpfObject,
    private readonly programs: Record<Hook, BpfProgram>,
  ) {}

  static open(maxEntries: Record<string, number> = {}): TcHarness {
    execFileSync('make', ['-C', join(ROOT, 'bpf'), '../build/bpf/moat_tc.bpf.o'], { stdio: 'pipe' });
    const object = BpfObject.open(TC_OBJECT, { maxEntries }).load();
    return new TcHarness(object, { fromPod: object.program('moat_from_pod'), toPod: object.program('moat_to_pod') });
  }

  map(name: string): BpfMap {
    return this.object.map(name);
  }

  /** Makes every user-written map hold exactly `state`, and forgets conntrack, fragments and counters. */
  reset(state: TcState): void {
    for (const name of [...WRITABLE_MAPS, ...STATE_MAPS]) this.clear(name);
    this.map('config').update(Buffer.alloc(4), encodeConfig({ ...DEFAULT_SETTINGS, ...state.settings }));
    if (state.endpoint) {
      this.map('endpoints').update(encodeEndpointKey(LOOPBACK_IFINDEX), encodeEndpoint(state.endpoint.ep, state.endpoint.mac));
    }
    this.write('ipcache', (state.ipcache ?? []).map(encodeIpcacheEntry));
    this.write('cidr_atoms', (state.cidrAtoms ?? []).map(encodeCidrAtomEntry));
    this.write('policy', (state.policy ?? []).map(encodePolicyEntry));
    this.write('services', (state.services ?? []).map(encodeServiceFrontend));
  }

  /** Forgets conntrack, fragments and counters only. */
  forgetFlows(): void {
    for (const name of STATE_MAPS) this.clear(name);
  }

  write(name: string, entries: readonly { key: Buffer; value: Buffer }[]): void {
    const map = this.map(name);
    for (const { key, value } of entries) map.update(key, value);
  }

  clear(name: string): void {
    const map = this.map(name);
    for (const key of map.keys()) map.delete(key);
  }

  run(hook: Hook, frame: Buffer, options: RunOptions = {}): { retval: number; durationNs: number } {
    const ctx = Buffer.alloc(SK_BUFF_SIZE);
    ctx.writeUInt32LE(options.ingressIfindex ?? FORWARDED_INGRESS_IFINDEX, SK_BUFF_INGRESS_IFINDEX);
    ctx.writeUInt32LE(LOOPBACK_IFINDEX, SK_BUFF_IFINDEX);
    const result = this.programs[hook].testRun({ data: frame, ctxIn: ctx, repeat: options.repeat ?? 1 });
    return { retval: result.retval, durationNs: result.durationNs };
  }

  /** 'allow' or 'drop', from the program's return code (which must be one of the two). */
  verdict(hook: Hook, frame: Buffer, options: RunOptions = {}): 'allow' | 'drop' {
    const { retval } = this.run(hook, frame, options);
    if (retval === TC_ALLOW) return 'allow';
    if (retval === TC_DROP) return 'drop';
    throw new Error(`${hook} returned ${retval}, neither TC_ACT_UNSPEC nor TC_ACT_SHOT`);
  }

  counters(): CounterSample[] {
    const perCpu = new Map(this.map('counters').batchLookupPerCpu().map((e) => [e.key.toString('hex'), e.values]));
    return decodeCounters(perCpu);
  }

  /** Packets counted under (direction, verdict, reason) for the endpoint. */
  counted(endpointId: number, direction: Direction, verdict: CounterSample['verdict'], reason: CounterSample['reason']): bigint {
    return this.counters()
      .filter((c) => c.endpointId === endpointId && c.direction === direction && c.verdict === verdict && c.reason === reason)
      .reduce((sum, c) => sum + c.packets, 0n);
  }

  close(): void {
    this.object.close();
  }
}
