// `moat status`: what this node enforces right now, read from the pinned state.
import type { Config } from '../config.js';
import { decodeCounters } from '../datapath/codec.js';
import { inspectPinned } from '../datapath/inspect.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { Output } from './output.js';

export function status(config: Config, out: Output): ExitCode {
  const state = inspectPinned(config.bpffsRoot);
  const drops = new Map<string, bigint>();
  for (const c of decodeCounters(state.counters)) {
    if (c.verdict === 'ALLOW') continue;
    const key = `${c.verdict.toLowerCase()} ${c.reason.toLowerCase()} (${c.direction})`;
    drops.set(key, (drops.get(key) ?? 0n) + c.packets);
  }
  const data = {
    root: state.root,
    loaded: state.present,
    hooks: state.hooks,
    maps: state.maps,
    drops: Object.fromEntries([...drops].map(([k, v]) => [k, Number(v)])),
  };
  out.result(data, () => {
    if (!state.present) return `nothing is enforced: no moat state under ${state.root}`;
    const devices = new Set(state.hooks.map((h) => h.ifname || `ifindex ${h.ifindex}`));
    return [
      `moat state under ${state.root}`,
      `hooked devices (${devices.size}): ${[...devices].join(', ') || 'none'}`,
      ...state.hooks.filter((h) => !h.live).map((h) => `  stale link ${h.ifindex}-${h.hook}: device gone`),
      'maps:',
      ...state.maps.map((m) => `  ${m.name.padEnd(12)} ${String(m.entries).padStart(8)} / ${m.capacity}`),
      'drops:',
      ...(drops.size ? [...drops].map(([k, v]) => `  ${k}: ${v}`) : ['  none']),
    ].join('\n');
  });
  return EXIT.ok;
}
