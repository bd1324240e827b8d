// The real Datapath: moat_tc.bpf.o loaded through the addon, everything pinned under the bpffs root so a
// restarted agent or the next `moat apply` adopts maps and hooks instead of starting over.
//
// Pins:  ROOT/maps/NAME          every map of the object (reused on load: state survives restarts)
//        ROOT/progs/NAME         the current programs
//        ROOT/links/IFINDEX-HOOK TCX links on pod veths (cls_bpf filters, the fallback, live on the device)
import { existsSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { MapFullError, type Attachment, type Datapath, type MapEntry, type TableName } from './datapath.js';
import { bpfObjectPath } from './artifacts.js';
import {
  BpfError,
  BpfLink,
  BpfObject,
  deviceAttachments,
  listLinks,
  tcAttach,
  tcDetach,
  type BpfMap,
  type BpfProgram,
  type TcHook,
} from './native.js';

export const PROGRAM_FROM_POD = 'moat_from_pod';
export const PROGRAM_TO_POD = 'moat_to_pod';
/** TC hook per program: packets from the pod arrive on the host veth's ingress, packets to it leave on egress. */
const HOOKS: readonly { program: string; hook: TcHook }[] = [
  { program: PROGRAM_FROM_POD, hook: 'ingress' },
  { program: PROGRAM_TO_POD, hook: 'egress' },
];
/** cls_bpf fallback filter identity, so moat finds and replaces only its own filter. */
const TC_HANDLE = 0x6d6f;
const TC_PRIORITY = 1;

/** Map name in the object for each configurable size (config.mapSizes keys). */
export const MAP_SIZE_NAMES = {
  endpoints: 'endpoints',
  ipcache: 'ipcache',
  cidrAtoms: 'cidr_atoms',
  policy: 'policy',
  ctTcp: 'ct_tcp',
  ctOther: 'ct_other',
  frags: 'frags',
  services: 'services',
  counters: 'counters',
  events: 'events',
} as const;

export interface KernelDatapathOptions {
  readonly bpffsRoot: string;
  readonly mapSizes: Readonly<Record<keyof typeof MAP_SIZE_NAMES, number>>;
  /** Use cls_bpf even where TCX links work (kernels < 6.6 fall back automatically). */
  readonly forceTc?: boolean;
}

const FULL_MAP_CODES = new Set(['E2BIG', 'ENOSPC', 'ENOMEM']);

function isStateMap(name: string): boolean {
  return !name.startsWith('.') && !name.includes('.');
}

export class KernelDatapath implements Datapath {
  private readonly programs = new Map<string, BpfProgram>();
  private readonly mapsByName = new Map<string, BpfMap>();

  private constructor(
    private readonly object: BpfObject,
    private readonly options: KernelDatapathOptions,
  ) {
    for (const m of object.maps()) this.mapsByName.set(m.name, m);
    for (const { program } of HOOKS) this.programs.set(program, object.program(program));
  }

  /** Load the programs, reusing pinned maps, and move existing hooks onto the new programs. */
  static open(options: KernelDatapathOptions): KernelDatapath {
    for (const dir of ['maps', 'progs', 'links']) mkdirSync(path.join(options.bpffsRoot, dir), { recursive: true });
    const objectPath = bpfObjectPath('moat_tc');
    const probe = BpfObject.open(objectPath);
    const mapNames = probe.mapNames().filter(isStateMap);
    probe.close();
    const maxEntries = Object.fromEntries(Object.entries(MAP_SIZE_NAMES).map(([key, map]) => [map, options.mapSizes[key as keyof typeof MAP_SIZE_NAMES]]));
    const pinMaps = Object.fromEntries(mapNames.map((name) => [name, path.join(options.bpffsRoot, 'maps', name)]));
    const object = BpfObject.open(objectPath, { maxEntries, pinMaps }).load();
    const datapath = new KernelDatapath(object, options);
    datapath.adoptHooks();
    return datapath;
  }

  /** Pinned links and programs from an earlier run now run this run's programs (an atomic swap per link). */
  private adoptHooks(): void {
    for (const { program, hook } of HOOKS) {
      const prog = this.program(program);
      for (const pin of this.linkPins().filter((p) => p.hook === hook)) {
        const link = BpfLink.fromPin(pin.path);
        try {
          link.update(prog);
        } finally {
          link.close();
        }
      }
      for (const attachment of this.tcAttachments()) {
        if (attachment.hook === hook) tcAttach(prog, attachment.ifindex, hook, { handle: TC_HANDLE, priority: TC_PRIORITY });
      }
      const progPin = path.join(this.options.bpffsRoot, 'progs', program);
      if (existsSync(progPin)) unlinkSync(progPin);
      prog.pin(progPin);
    }
  }

  private program(name: string): BpfProgram {
    const prog = this.programs.get(name);
    if (!prog) throw new Error(`program ${name} is not in moat_tc.bpf.o`);
    return prog;
  }

  map(name: string): BpfMap {
    const m = this.mapsByName.get(name);
    if (!m) throw new Error(`map ${name} is not in moat_tc.bpf.o`);
    return m;
  }

  read(table: TableName): Map<string, Buffer> {
    const m = this.map(table);
    const content = new Map<string, Buffer>();
    for (const key of m.keys()) {
      const value = m.lookup(key);
      if (value) content.set(key.toString('hex'), value);
    }
    return content;
  }

  write(table: TableName, upserts: readonly MapEntry[], deletes: readonly Buffer[]): void {
    const m = this.map(table);
    try {
      if (upserts.length > 0) m.batchUpdate(upserts.map((e) => e.key), upserts.map((e) => e.value));
    } catch (err) {
      if (err instanceof BpfError && FULL_MAP_CODES.has(err.code)) throw new MapFullError(table, m.maxEntries);
      throw err;
    }
    if (deletes.length > 0) m.batchDelete(deletes);
  }

  capacity(table: TableName): number {
    return this.map(table).maxEntries;
  }

  writeConfig(value: Buffer): void {
    this.map('config').update(Buffer.alloc(4), value);
  }

  attachments(): Attachment[] {
    const names = new Map(listLinks().map((l) => [l.ifindex, l.name]));
    const byIfindex = new Map<number, Attachment>();
    for (const pin of this.linkPins()) {
      if (!names.has(pin.ifindex)) continue;
      byIfindex.set(pin.ifindex, { ifindex: pin.ifindex, ifname: names.get(pin.ifindex) ?? '', mode: 'tcx' });
    }
    for (const a of this.tcAttachments()) {
      byIfindex.set(a.ifindex, { ifindex: a.ifindex, ifname: names.get(a.ifindex) ?? '', mode: 'tc' });
    }
    return [...byIfindex.values()];
  }

  attach(ifindex: number, ifname: string): Attachment {
    if (!this.options.forceTc) {
      try {
        for (const { program, hook } of HOOKS) this.attachTcx(program, hook, ifindex);
        return { ifindex, ifname, mode: 'tcx' };
      } catch (err) {
        // Kernels without TCX (< 6.6) refuse the attach type; anything else is a real failure.
        if (!(err instanceof BpfError && ['EINVAL', 'EOPNOTSUPP', 'ENOTSUPP'].includes(err.code))) throw err;
        this.removeLinkPins(ifindex);
      }
    }
    for (const { program, hook } of HOOKS) tcAttach(this.program(program), ifindex, hook, { handle: TC_HANDLE, priority: TC_PRIORITY });
    return { ifindex, ifname, mode: 'tc' };
  }

  private attachTcx(program: string, hook: TcHook, ifindex: number): void {
    const pinPath = this.linkPinPath(ifindex, hook);
    if (existsSync(pinPath)) unlinkSync(pinPath);
    const link = BpfLink.tcx(this.program(program), ifindex, hook);
    try {
      link.pin(pinPath);
    } finally {
      link.close();
    }
  }

  detach(ifindex: number): void {
    this.removeLinkPins(ifindex);
    for (const a of this.tcAttachments().filter((t) => t.ifindex === ifindex)) {
      tcDetach(ifindex, a.hook, { handle: TC_HANDLE, priority: TC_PRIORITY });
    }
  }

  readCounters(): Map<string, Buffer[]> {
    const counters = this.map('counters');
    const result = new Map<string, Buffer[]>();
    for (const key of counters.keys()) {
      const values = counters.lookupPerCpu(key);
      if (values) result.set(key.toString('hex'), values);
    }
    return result;
  }

  close(): void {
    this.object.close();
  }

  private linkPinPath(ifindex: number, hook: TcHook): string {
    return path.join(this.options.bpffsRoot, 'links', `${ifindex}-${hook}`);
  }

  /** Pinned TCX links; a link whose device is gone (or whose ifindex was reused) is unpinned, which frees it. */
  private linkPins(): { path: string; ifindex: number; hook: TcHook }[] {
    const dir = path.join(this.options.bpffsRoot, 'links');
    const pins: { path: string; ifindex: number; hook: TcHook }[] = [];
    for (const name of readdirSync(dir)) {
      const match = /^(\d+)-(ingress|egress)$/.exec(name);
      if (!match) continue;
      const pinPath = path.join(dir, name);
      const ifindex = Number(match[1]);
      const link = BpfLink.fromPin(pinPath);
      const live = link.info().ifindex === ifindex;
      link.close();
      if (live) pins.push({ path: pinPath, ifindex, hook: match[2] as TcHook });
      else unlinkSync(pinPath);
    }
    return pins;
  }

  private removeLinkPins(ifindex: number): void {
    for (const { hook } of HOOKS) rmSync(this.linkPinPath(ifindex, hook), { force: true });
  }

  /** moat's cls_bpf filters (the fallback) on pod veths, found by their handle. */
  private tcAttachments(): { ifindex: number; hook: TcHook }[] {
    const found: { ifindex: number; hook: TcHook }[] = [];
    for (const link of listLinks().filter((l) => l.kind === 'veth')) {
      for (const a of deviceAttachments(link.ifindex)) {
        if (a.kind === 'tc' && a.handle === TC_HANDLE && a.hook !== 'xdp') found.push({ ifindex: link.ifindex, hook: a.hook });
      }
    }
    return found;
  }
}

/** `moat reset`: detach every hook and remove every pin under the root. */
export function resetDatapath(bpffsRoot: string): { links: number; filters: number } {
  let links = 0;
  let filters = 0;
  const linkDir = path.join(bpffsRoot, 'links');
  if (existsSync(linkDir)) {
    for (const name of readdirSync(linkDir)) {
      const link = BpfLink.fromPin(path.join(linkDir, name));
      try {
        link.detach();
      } finally {
        link.close();
      }
      links += 1;
    }
  }
  for (const link of listLinks().filter((l) => l.kind === 'veth')) {
    for (const a of deviceAttachments(link.ifindex)) {
      if (a.kind === 'tc' && a.handle === TC_HANDLE && a.hook !== 'xdp') {
        tcDetach(link.ifindex, a.hook, { handle: TC_HANDLE, priority: TC_PRIORITY });
        filters += 1;
      }
    }
  }
  rmSync(bpffsRoot, { recursive: true, force: true });
  return { links, filters };
}
