// The typed face of the native addon (native/*.cc): BPF objects, maps, programs, links, cls_bpf, ring buffers and
// rtnetlink. This is the only module that loads the addon. The C++ side is deliberately thin; sizes, fallbacks and
// ownership rules live here.
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from './artifacts.js';

// ---------------------------------------------------------------------------------------------------------------
// Kernel constants (values from the running kernel's BTF; the system headers of Debian 12 predate some of them).

export const ProgramType = { SCHED_CLS: 3, XDP: 6, NETFILTER: 32 } as const;
export const AttachType = { XDP: 37, NETFILTER: 45, TCX_INGRESS: 46, TCX_EGRESS: 47 } as const;
export const MapType = {
  HASH: 1,
  ARRAY: 2,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  LPM_TRIE: 11,
  RINGBUF: 27,
} as const;
export const LinkType = { XDP: 6, NETFILTER: 10, TCX: 11 } as const;
/** bpf_map_update_elem flags. */
export const UpdateFlags = { ANY: 0, NOEXIST: 1, EXIST: 2 } as const;
export const NetfilterFamily = { IPV4: 2, IPV6: 10 } as const;
export const NetfilterHook = { PRE_ROUTING: 0, LOCAL_IN: 1, FORWARD: 2, LOCAL_OUT: 3, POST_ROUTING: 4 } as const;

const XDP_FLAGS_SKB_MODE = 1 << 1;
const XDP_FLAGS_DRV_MODE = 1 << 2;
const PER_CPU_MAP_TYPES: ReadonlySet<number> = new Set([MapType.PERCPU_HASH, MapType.PERCPU_ARRAY, MapType.LRU_PERCPU_HASH]);
/** Entries fetched per bpf_map_lookup_batch call; the addon grows it when a hash bucket needs more. */
const BATCH_CHUNK = 1024;

export type TcHook = 'ingress' | 'egress';

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** A failed kernel or libbpf call: `op` is the call, `errno`/`code` the reason, `verifierLog` set for load failures. */
export class BpfError extends Error {
  readonly op: string;
  readonly errno: number;
  readonly code: string;
  readonly verifierLog?: string;

  constructor(message: string, fields: { op: string; errno: number; code: string; verifierLog?: string }) {
    super(message);
    this.name = 'BpfError';
    this.op = fields.op;
    this.errno = fields.errno;
    this.code = fields.code;
    if (fields.verifierLog !== undefined) this.verifierLog = fields.verifierLog;
  }
}

interface NativeErrorFields {
  message: string;
  op: string;
  errno: number;
  code: string;
  verifierLog?: string;
}

function isNativeError(error: unknown): error is Error & NativeErrorFields {
  return error instanceof Error && typeof (error as Partial<NativeErrorFields>).op === 'string'
    && typeof (error as Partial<NativeErrorFields>).errno === 'number';
}

/** Runs an addon call; its errors become BpfErrors whose message starts with `subject` (the object involved). */
function call<T>(subject: string, body: () => T): T {
  try {
    return body();
  } catch (error) {
    if (!isNativeError(error)) throw error;
    const fields = { op: error.op, errno: error.errno, code: error.code, ...(error.verifierLog ? { verifierLog: error.verifierLog } : {}) };
    throw new BpfError(`${subject}: ${error.message}`, fields);
  }
}

function closedError(subject: string, op: string): BpfError {
  return new BpfError(`${subject}: ${op} after close`, { op, errno: 9, code: 'EBADF' });
}

// ---------------------------------------------------------------------------------------------------------------
// The addon's raw interface

interface NativeMapInfo { id: number; type: number; keySize: number; valueSize: number; maxEntries: number; flags: number; name: string }
interface NativeProgInfo { id: number; type: number; name: string }
interface NativeLinkInfo {
  type: number; id: number; progId: number; ifindex?: number; attachType?: number; pf?: number; hooknum?: number; priority?: number;
}
interface NativeTestRunOptions { data?: Buffer; repeat?: number; dataSizeOut?: number; ctxIn?: Buffer; ctxSizeOut?: number; netns?: string }
interface NativeTestRunResult { retval: number; data: Buffer; ctx?: Buffer; durationNs: number }
interface NativeObjectOptions {
  programTypes?: Record<string, { type: number; expectedAttachType?: number }>;
  maxEntries?: Record<string, number>;
  pinMaps?: Record<string, string>;
}
interface NativeObjectHandle {
  load(): void;
  programNames(): string[];
  mapNames(): string[];
  programFd(name: string): number;
  mapFd(name: string): number;
  close(): void;
}
interface NativeClosable { close(): void }
interface NativeRingBufferHandle extends NativeClosable { consume(): void }

interface NativeAddon {
  BpfObjectHandle: new (path: string, options: NativeObjectOptions) => NativeObjectHandle;
  RingBufferHandle: new (mapFd: number, onRecord: (record: Buffer) => void) => NativeRingBufferHandle;
  NetlinkMonitorHandle: new (netns: string | undefined, onEvent: (event: NetlinkEvent) => void) => NativeClosable;
  mapInfo(fd: number): NativeMapInfo;
  mapLookup(fd: number, key: Buffer, valueBytes: number): Buffer | null;
  mapUpdate(fd: number, key: Buffer, value: Buffer, flags: number): void;
  mapDelete(fd: number, key: Buffer): boolean;
  mapKeys(fd: number, keySize: number, limit: number): Buffer[];
  mapLookupBatch(fd: number, keySize: number, valueBytes: number, chunk: number): { keys: Buffer; values: Buffer; count: number } | null;
  mapUpdateBatch(fd: number, keys: Buffer, values: Buffer, count: number, flags: number): boolean;
  mapDeleteBatch(fd: number, keys: Buffer, count: number, keySize: number): number | null;
  objPin(fd: number, path: string): void;
  objGet(path: string): number;
  closeFd(fd: number): void;
  possibleCpus(): number;
  progInfo(fd: number): NativeProgInfo;
  progTestRun(fd: number, options: NativeTestRunOptions): NativeTestRunResult;
  linkCreate(progFd: number, target: number, attachType: number, flags: number, netns: string | undefined): number;
  netfilterLinkCreate(progFd: number, pf: number, hooknum: number, priority: number, flags: number, netns: string | undefined): number;
  linkInfo(fd: number): NativeLinkInfo;
  linkUpdate(fd: number, progFd: number): void;
  linkDetach(fd: number): void;
  tcAttach(progFd: number, ifindex: number, hook: TcHook, handle: number, priority: number, netns: string | undefined): TcFilter;
  tcDetach(ifindex: number, hook: TcHook, handle: number, priority: number, netns: string | undefined): void;
  deviceAttachments(ifindex: number, netns: string | undefined): DeviceAttachment[];
  listLinks(netns: string | undefined, targetNetnsId: number | undefined): LinkRecord[];
  listAddrs(netns: string | undefined, targetNetnsId: number | undefined): AddrRecord[];
}

const ADDON_RELATIVE_PATH = path.join('build', 'native', 'Release', 'moat_native.node');

let loadedAddon: NativeAddon | undefined;

/** Loads the addon on first use, so that modules importing this file stay usable where it is not built. */
function addon(): NativeAddon {
  if (loadedAddon) return loadedAddon;
  const addonPath = process.env.MOAT_NATIVE_ADDON ?? path.join(packageRoot(), ADDON_RELATIVE_PATH);
  try {
    loadedAddon = createRequire(import.meta.url)(addonPath) as NativeAddon;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `moat: cannot load the native addon at ${addonPath} (${reason}). `
      + 'Build it with `npm run build:native`, or prepare the machine with `bash scripts/setup.sh`.',
    );
  }
  return loadedAddon;
}

/** Number of possible CPUs: the number of slots in a per-CPU map value. */
export function possibleCpus(): number {
  return call('possible CPUs', () => addon().possibleCpus());
}

function checkLength(subject: string, what: string, buffer: Buffer, expected: number): void {
  if (!Buffer.isBuffer(buffer)) throw new TypeError(`${subject}: ${what} must be a Buffer`);
  if (buffer.length !== expected) throw new TypeError(`${subject}: ${what} is ${buffer.length} bytes, expected ${expected}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Maps

export interface MapEntryBuffers { key: Buffer; value: Buffer }
export interface PerCpuEntry { key: Buffer; values: Buffer[] }

/**
 * A kernel object this process holds by descriptor (map, program, link): one owner of the fd, pinning, and an
 * idempotent close. `label` names the object in every error.
 */
abstract class BpfDescriptor {
  readonly #label: string;
  #fd: number;

  protected constructor(fd: number, label: string) {
    this.#fd = fd;
    this.#label = label;
  }

  get fd(): number {
    if (this.#fd < 0) throw closedError(this.#label, 'fd');
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  get label(): string {
    return this.#label;
  }

  /** Pins the object on bpffs so that it outlives this process. */
  pin(pinPath: string): void {
    call(`${this.#label} pin ${pinPath}`, () => addon().objPin(this.fd, pinPath));
  }

  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    addon().closeFd(fd);
  }
}

/** Wraps a descriptor this module obtained; on failure the descriptor is closed, not leaked. */
function adoptFd<T>(fd: number, wrap: () => T): T {
  try {
    return wrap();
  } catch (error) {
    addon().closeFd(fd);
    throw error;
  }
}

export class BpfMap extends BpfDescriptor {
  readonly id: number;
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;

  /** Takes ownership of fd. name: the full name where known (the kernel keeps only 15 characters). */
  private constructor(fd: number, name?: string, label?: string) {
    const info = call(label ?? `map fd ${fd}`, () => addon().mapInfo(fd));
    super(fd, label ?? `map '${name ?? info.name}'`);
    this.id = info.id;
    this.name = name ?? info.name;
    this.type = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
  }

  /** @internal Wraps a descriptor this module obtained; the map owns it from now on. */
  static adopt(fd: number, name?: string, label?: string): BpfMap {
    return adoptFd(fd, () => new BpfMap(fd, name, label));
  }

  /** Opens a pinned map (bpffs path). */
  static fromPin(pinPath: string): BpfMap {
    const fd = call(`map pin ${pinPath}`, () => addon().objGet(pinPath));
    return BpfMap.adopt(fd, undefined, `map pinned at ${pinPath}`);
  }

  get isPerCpu(): boolean {
    return PER_CPU_MAP_TYPES.has(this.type);
  }

  /** Bytes one CPU's slot takes in a per-CPU value: the value size rounded up to 8. */
  get perCpuStride(): number {
    return Math.ceil(this.valueSize / 8) * 8;
  }

  lookup(key: Buffer): Buffer | null {
    this.#requireShared('lookup');
    checkLength(this.label, 'key', key, this.keySize);
    return call(this.label, () => addon().mapLookup(this.fd, key, this.valueSize));
  }

  /** One Buffer per possible CPU, or null when the key is absent. */
  lookupPerCpu(key: Buffer): Buffer[] | null {
    this.#requirePerCpu('lookupPerCpu');
    checkLength(this.label, 'key', key, this.keySize);
    const raw = call(this.label, () => addon().mapLookup(this.fd, key, this.perCpuStride * possibleCpus()));
    return raw && this.#splitPerCpu(raw);
  }

  update(key: Buffer, value: Buffer, flags: number = UpdateFlags.ANY): void {
    this.#requireShared('update');
    checkLength(this.label, 'key', key, this.keySize);
    checkLength(this.label, 'value', value, this.valueSize);
    call(this.label, () => addon().mapUpdate(this.fd, key, value, flags));
  }

  /** Writes one value per possible CPU. */
  updatePerCpu(key: Buffer, values: readonly Buffer[], flags: number = UpdateFlags.ANY): void {
    this.#requirePerCpu('updatePerCpu');
    checkLength(this.label, 'key', key, this.keySize);
    call(this.label, () => addon().mapUpdate(this.fd, key, this.#joinPerCpu(values), flags));
  }

  /** True when the key existed. */
  delete(key: Buffer): boolean {
    checkLength(this.label, 'key', key, this.keySize);
    return call(this.label, () => addon().mapDelete(this.fd, key));
  }

  keys(): Buffer[] {
    // get_next_key restarts after a concurrent delete; twice the capacity bounds the walk without cutting a full map.
    return call(this.label, () => addon().mapKeys(this.fd, this.keySize, this.maxEntries * 2 + 1));
  }

  /** Every entry, in one pass of batch lookups where the map type has them, else key by key. */
  batchLookup(): MapEntryBuffers[] {
    this.#requireShared('batchLookup');
    return this.#lookupAll(this.valueSize).map(([key, value]) => ({ key, value }));
  }

  batchLookupPerCpu(): PerCpuEntry[] {
    this.#requirePerCpu('batchLookupPerCpu');
    return this.#lookupAll(this.perCpuStride * possibleCpus()).map(([key, value]) => ({ key, values: this.#splitPerCpu(value) }));
  }

  batchUpdate(keys: readonly Buffer[], values: readonly Buffer[], flags: number = UpdateFlags.ANY): void {
    this.#requireShared('batchUpdate');
    if (keys.length !== values.length) {
      throw new TypeError(`${this.label}: batchUpdate got ${keys.length} keys but ${values.length} values`);
    }
    keys.forEach((key) => checkLength(this.label, 'key', key, this.keySize));
    values.forEach((value) => checkLength(this.label, 'value', value, this.valueSize));
    const done = call(this.label, () => addon().mapUpdateBatch(this.fd, Buffer.concat(keys), Buffer.concat(values), keys.length, flags));
    if (!done) keys.forEach((key, index) => this.update(key, values[index] as Buffer, flags));
  }

  /** Deletes the keys that exist; returns how many did. */
  batchDelete(keys: readonly Buffer[]): number {
    keys.forEach((key) => checkLength(this.label, 'key', key, this.keySize));
    const deleted = call(this.label, () => addon().mapDeleteBatch(this.fd, Buffer.concat(keys), keys.length, this.keySize));
    if (deleted !== null) return deleted;
    return keys.filter((key) => this.delete(key)).length;
  }

  #lookupAll(valueBytes: number): Array<[Buffer, Buffer]> {
    const batch = call(this.label, () => addon().mapLookupBatch(this.fd, this.keySize, valueBytes, BATCH_CHUNK));
    if (batch === null) {
      const entries: Array<[Buffer, Buffer]> = [];
      for (const key of this.keys()) {
        const value = call(this.label, () => addon().mapLookup(this.fd, key, valueBytes));
        if (value) entries.push([key, value]);
      }
      return entries;
    }
    const entries: Array<[Buffer, Buffer]> = [];
    for (let index = 0; index < batch.count; index += 1) {
      entries.push([
        batch.keys.subarray(index * this.keySize, (index + 1) * this.keySize),
        batch.values.subarray(index * valueBytes, (index + 1) * valueBytes),
      ]);
    }
    return entries;
  }

  #splitPerCpu(raw: Buffer): Buffer[] {
    const values: Buffer[] = [];
    for (let offset = 0; offset < raw.length; offset += this.perCpuStride) {
      values.push(raw.subarray(offset, offset + this.valueSize));
    }
    return values;
  }

  #joinPerCpu(values: readonly Buffer[]): Buffer {
    const cpus = possibleCpus();
    if (values.length !== cpus) throw new TypeError(`${this.label}: ${values.length} per-CPU values given, ${cpus} CPUs possible`);
    const joined = Buffer.alloc(this.perCpuStride * cpus);
    values.forEach((value, cpu) => {
      checkLength(this.label, `value for CPU ${cpu}`, value, this.valueSize);
      value.copy(joined, cpu * this.perCpuStride);
    });
    return joined;
  }

  #requireShared(op: string): void {
    if (this.isPerCpu) throw new TypeError(`${this.label} is a per-CPU map: use ${op}PerCpu`);
  }

  #requirePerCpu(op: string): void {
    if (!this.isPerCpu) throw new TypeError(`${this.label} is not a per-CPU map: ${op} does not apply`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Programs

export interface TestRunOptions {
  /** The packet; for SCHED_CLS and XDP an Ethernet frame. */
  data: Buffer;
  repeat?: number;
  /** Room for the output packet; defaults to the input size plus headroom. */
  dataSizeOut?: number;
  /**
   * A struct __sk_buff for SCHED_CLS (the kernel accepts mark, priority, ingress_ifindex, ifindex, cb, tstamp,
   * wire_len, gso_segs, gso_size, hwtstamp; everything else must be zero) or struct xdp_md for XDP.
   */
  ctxIn?: Buffer;
  /** Namespace in which ctx ifindexes are resolved. */
  netns?: string;
}

export interface TestRunResult {
  retval: number;
  data: Buffer;
  /** The context after the run, when ctxIn was given. */
  ctx?: Buffer;
  durationNs: number;
}

export class BpfProgram extends BpfDescriptor {
  readonly id: number;
  readonly name: string;
  readonly type: number;

  /** Takes ownership of fd. name: the full name where known (the kernel keeps only 15 characters). */
  private constructor(fd: number, name?: string, label?: string) {
    const info = call(label ?? `program fd ${fd}`, () => addon().progInfo(fd));
    super(fd, label ?? `program '${name ?? info.name}'`);
    this.id = info.id;
    this.name = name ?? info.name;
    this.type = info.type;
  }

  /** @internal Wraps a descriptor this module obtained; the program owns it from now on. */
  static adopt(fd: number, name?: string, label?: string): BpfProgram {
    return adoptFd(fd, () => new BpfProgram(fd, name, label));
  }

  static fromPin(pinPath: string): BpfProgram {
    const fd = call(`program pin ${pinPath}`, () => addon().objGet(pinPath));
    return BpfProgram.adopt(fd, undefined, `program pinned at ${pinPath}`);
  }

  testRun(options: TestRunOptions): TestRunResult {
    return call(this.label, () => addon().progTestRun(this.fd, options));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Objects

export interface OpenOptions {
  /** Program type overrides, e.g. netfilter programs: {type: ProgramType.NETFILTER, expectedAttachType: AttachType.NETFILTER}. */
  programTypes?: Record<string, { type: number; expectedAttachType?: number }>;
  maxEntries?: Record<string, number>;
  /** Pin paths per map: a compatible map already pinned there is reused (a restarted agent adopts it), else created and pinned. */
  pinMaps?: Record<string, string>;
}

/** A BPF ELF object. Maps and programs it hands out are its own and are closed with it. */
export class BpfObject {
  readonly path: string;
  #handle: NativeObjectHandle | null;
  readonly #programs = new Map<string, BpfProgram>();
  readonly #maps = new Map<string, BpfMap>();

  private constructor(objectPath: string, handle: NativeObjectHandle) {
    this.path = objectPath;
    this.#handle = handle;
  }

  static open(objectPath: string, options: OpenOptions = {}): BpfObject {
    const NativeObject = addon().BpfObjectHandle;
    return new BpfObject(objectPath, call(`object ${objectPath}`, () => new NativeObject(objectPath, options)));
  }

  /** Loads every program and creates (or adopts pinned) maps. A verifier rejection throws with `verifierLog`. */
  load(): this {
    const handle = this.#require('load');
    call(`object ${this.path}`, () => handle.load());
    return this;
  }

  program(name: string): BpfProgram {
    const existing = this.#programs.get(name);
    if (existing) return existing;
    const handle = this.#require('program');
    const program = BpfProgram.adopt(call(`object ${this.path}`, () => handle.programFd(name)), name);
    this.#programs.set(name, program);
    return program;
  }

  map(name: string): BpfMap {
    const existing = this.#maps.get(name);
    if (existing) return existing;
    const handle = this.#require('map');
    const map = BpfMap.adopt(call(`object ${this.path}`, () => handle.mapFd(name)), name);
    this.#maps.set(name, map);
    return map;
  }

  programs(): BpfProgram[] {
    return this.#require('programs').programNames().map((name) => this.program(name));
  }

  /** Map names as the object declares them; available before load (to plan pins and sizes). */
  mapNames(): string[] {
    return this.#require('mapNames').mapNames();
  }

  maps(): BpfMap[] {
    return this.mapNames().map((name) => this.map(name));
  }

  close(): void {
    if (!this.#handle) return;
    for (const program of this.#programs.values()) program.close();
    for (const map of this.#maps.values()) map.close();
    this.#programs.clear();
    this.#maps.clear();
    this.#handle.close();
    this.#handle = null;
  }

  #require(op: string): NativeObjectHandle {
    if (!this.#handle) throw closedError(`object ${this.path}`, op);
    return this.#handle;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Links

export interface NetnsOption {
  /** A network namespace path such as /var/run/netns/NAME; ifindexes and hooks are resolved there. */
  netns?: string;
}

export interface NetfilterHookSpec {
  pf: number;
  hooknum: number;
  /** Netfilter priority; NF_IP_PRI_FIRST/LAST (INT_MIN/INT_MAX) are refused by the kernel. */
  priority: number;
}

export type LinkKind = 'tcx' | 'xdp' | 'netfilter' | 'other';

export interface LinkInfo {
  kind: LinkKind;
  type: number;
  id: number;
  progId: number;
  /** 0 once the device is gone (the link stays, defunct, while pinned). */
  ifindex?: number;
  attachType?: number;
  direction?: TcHook;
  pf?: number;
  hooknum?: number;
  priority?: number;
}

const LINK_KINDS: ReadonlyMap<number, LinkKind> = new Map([[LinkType.TCX, 'tcx'], [LinkType.XDP, 'xdp'], [LinkType.NETFILTER, 'netfilter']]);

export class BpfLink extends BpfDescriptor {
  private constructor(fd: number, label: string) {
    super(fd, label);
  }

  /** A TCX link (kernel >= 6.6), appended to the device's chain for that direction. */
  static tcx(program: BpfProgram, ifindex: number, direction: TcHook, options: NetnsOption = {}): BpfLink {
    const attachType = direction === 'ingress' ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS;
    const label = `TCX ${direction} link of ${program.label} on ifindex ${ifindex}`;
    return new BpfLink(call(label, () => addon().linkCreate(program.fd, ifindex, attachType, 0, options.netns)), label);
  }

  static xdp(program: BpfProgram, ifindex: number, options: NetnsOption & { mode: 'native' | 'generic' }): BpfLink {
    const flags = options.mode === 'native' ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
    const label = `XDP (${options.mode}) link of ${program.label} on ifindex ${ifindex}`;
    return new BpfLink(call(label, () => addon().linkCreate(program.fd, ifindex, AttachType.XDP, flags, options.netns)), label);
  }

  static netfilter(program: BpfProgram, hook: NetfilterHookSpec, options: NetnsOption = {}): BpfLink {
    const label = `netfilter link of ${program.label} (pf ${hook.pf}, hook ${hook.hooknum}, priority ${hook.priority})`;
    const fd = call(label, () => addon().netfilterLinkCreate(program.fd, hook.pf, hook.hooknum, hook.priority, 0, options.netns));
    return new BpfLink(fd, label);
  }

  static fromPin(pinPath: string): BpfLink {
    const label = `link pinned at ${pinPath}`;
    return new BpfLink(call(label, () => addon().objGet(pinPath)), label);
  }

  info(): LinkInfo {
    const raw = call(this.label, () => addon().linkInfo(this.fd));
    const info: LinkInfo = { ...raw, kind: LINK_KINDS.get(raw.type) ?? 'other' };
    if (raw.attachType === AttachType.TCX_INGRESS) info.direction = 'ingress';
    if (raw.attachType === AttachType.TCX_EGRESS) info.direction = 'egress';
    return info;
  }

  /** Replaces the link's program atomically: the hook is never empty in between (upgrades, restarts). */
  update(program: BpfProgram): void {
    call(`${this.label} update to ${program.label}`, () => addon().linkUpdate(this.fd, program.fd));
  }

  /** Detaches now, even while pins or other descriptors keep the link object alive. */
  detach(): void {
    call(this.label, () => addon().linkDetach(this.fd));
  }

}

// ---------------------------------------------------------------------------------------------------------------
// cls_bpf (direct action), the fallback where TCX is missing

export interface TcFilter {
  handle: number;
  priority: number;
}

/** Attaches a direct-action cls_bpf filter, creating the clsact qdisc if needed; 0 lets the kernel choose handle/priority. */
export function tcAttach(program: BpfProgram, ifindex: number, hook: TcHook, options: NetnsOption & Partial<TcFilter> = {}): TcFilter {
  return call(`cls_bpf ${hook} filter of ${program.label} on ifindex ${ifindex}`,
    () => addon().tcAttach(program.fd, ifindex, hook, options.handle ?? 0, options.priority ?? 0, options.netns));
}

export function tcDetach(ifindex: number, hook: TcHook, options: NetnsOption & TcFilter): void {
  call(`cls_bpf ${hook} filter ${options.handle}/${options.priority} on ifindex ${ifindex}`,
    () => addon().tcDetach(ifindex, hook, options.handle, options.priority, options.netns));
}

export interface DeviceAttachment {
  hook: TcHook | 'xdp';
  kind: 'tcx' | 'tc' | 'xdp';
  progId: number;
  progName?: string;
  /** cls_bpf filters */
  handle?: number;
  priority?: number;
  /** XDP */
  mode?: 'native' | 'generic' | 'offload';
}

/** Every BPF program on a device: TCX chains, cls_bpf filters on clsact, XDP — in kernel order per hook. */
export function deviceAttachments(ifindex: number, options: NetnsOption = {}): DeviceAttachment[] {
  return call(`attachments of ifindex ${ifindex}`, () => addon().deviceAttachments(ifindex, options.netns));
}

// ---------------------------------------------------------------------------------------------------------------
// Ring buffers

/** Delivers each record of a BPF ring buffer map to onRecord from Node's event loop. Keeps the process alive until closed. */
export class RingBuffer {
  #handle: NativeRingBufferHandle | null;

  constructor(map: BpfMap, onRecord: (record: Buffer) => void) {
    if (map.type !== MapType.RINGBUF) throw new TypeError(`map '${map.name}' is not a ring buffer (type ${map.type})`);
    const NativeRingBuffer = addon().RingBufferHandle;
    this.#handle = call(`ring buffer '${map.name}'`, () => new NativeRingBuffer(map.fd, onRecord));
  }

  /** Delivers what is pending now, without waiting for the event loop. */
  consume(): void {
    this.#handle?.consume();
  }

  close(): void {
    this.#handle?.close();
    this.#handle = null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// rtnetlink

export interface LinkRecord {
  ifindex: number;
  name: string;
  /** IFLA_INFO_KIND ('veth', 'bridge', ...); '' for devices without one. */
  kind: string;
  mac: string;
  mtu: number;
  up: boolean;
  /** The peer's namespace as an nsid of the listing namespace (veths whose peer lives elsewhere). */
  linkNetnsId?: number;
  /** IFLA_LINK: for a veth, the peer's ifindex in the peer's namespace. */
  peerIfindex?: number;
  master?: number;
}

export interface AddrRecord {
  ifindex: number;
  family: 4 | 6;
  address: string;
  prefixlen: number;
}

export interface TargetNetnsOption extends NetnsOption {
  /** List what lives in the namespace with this nsid (as seen from `netns`), without entering it. */
  targetNetnsId?: number;
}

export function listLinks(options: TargetNetnsOption = {}): LinkRecord[] {
  return call('rtnetlink', () => addon().listLinks(options.netns, options.targetNetnsId));
}

/** Addresses; with targetNetnsId those of a peer namespace (the kernel must echo the nsid, or this throws EPROTO). */
export function listAddrs(options: TargetNetnsOption = {}): AddrRecord[] {
  return call('rtnetlink', () => addon().listAddrs(options.netns, options.targetNetnsId));
}

export type NetlinkEvent =
  | { type: 'newlink' | 'dellink'; link: LinkRecord }
  | { type: 'newaddr' | 'deladdr'; addr: AddrRecord }
  /** The kernel dropped events (socket buffer overrun): re-list links and addresses. */
  | { type: 'overflow' };

/** Link and address changes in a namespace, delivered from Node's event loop. Keeps the process alive until closed. */
export class NetlinkMonitor {
  #handle: NativeClosable | null;

  constructor(onEvent: (event: NetlinkEvent) => void, options: NetnsOption = {}) {
    const NativeMonitor = addon().NetlinkMonitorHandle;
    this.#handle = call(`netlink monitor${options.netns ? ` in ${options.netns}` : ''}`, () => new NativeMonitor(options.netns, onEvent));
  }

  close(): void {
    this.#handle?.close();
    this.#handle = null;
  }
}
