// Read-only view of what is pinned under the bpffs root: hooked devices, map fill, counters. Used by
// `moat status`; it never loads or swaps programs.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { BpfLink, BpfMap, listLinks } from './native.js';

export interface PinnedMapFill {
  readonly name: string;
  readonly entries: number;
  readonly capacity: number;
}

export interface PinnedHook {
  readonly ifindex: number;
  readonly ifname: string;
  readonly hook: string;
  readonly mode: 'tcx';
  readonly live: boolean;
}

export interface PinnedState {
  readonly root: string;
  readonly present: boolean;
  readonly maps: readonly PinnedMapFill[];
  readonly hooks: readonly PinnedHook[];
  readonly counters: ReadonlyMap<string, Buffer[]>;
}

export function inspectPinned(root: string): PinnedState {
  const mapDir = path.join(root, 'maps');
  if (!existsSync(mapDir)) return { root, present: false, maps: [], hooks: [], counters: new Map() };
  const maps: PinnedMapFill[] = [];
  const counters = new Map<string, Buffer[]>();
  for (const name of readdirSync(mapDir).sort()) {
    const m = BpfMap.fromPin(path.join(mapDir, name));
    try {
      if (name === 'counters') {
        for (const key of m.keys()) counters.set(key.toString('hex'), m.lookupPerCpu(key) ?? []);
      }
      // Array-like maps have every slot allocated; ring buffers have no entries to count.
      if (!['config', 'events', 'event_bucket'].includes(name)) maps.push({ name, entries: m.keys().length, capacity: m.maxEntries });
    } finally {
      m.close();
    }
  }
  const names = new Map(listLinks().map((l) => [l.ifindex, l.name]));
  const hooks: PinnedHook[] = [];
  const linkDir = path.join(root, 'links');
  for (const pin of existsSync(linkDir) ? readdirSync(linkDir).sort() : []) {
    const match = /^(\d+)-(ingress|egress)$/.exec(pin);
    if (!match) continue;
    const link = BpfLink.fromPin(path.join(linkDir, pin));
    const ifindex = Number(match[1]);
    try {
      hooks.push({ ifindex, ifname: names.get(ifindex) ?? '', hook: match[2] as string, mode: 'tcx', live: link.info().ifindex === ifindex });
    } finally {
      link.close();
    }
  }
  return { root, present: true, maps, hooks, counters };
}
