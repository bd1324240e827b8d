// The netns test kit, framework-free (usable from vitest, the benchmark and the demo):
// topologies, pod agents, probes, commands in namespaces and the privilege check.
// Vitest glue (useTopology, describeNetns) lives in netns-vitest.ts. Typical use:
//
//   describeNetns('policy', () => {
//     const topo = useTopology({ kind: 'bridge', pods: [{ namespace: 'x', name: 'a' }, …] },
//       async (t) => { await Promise.all(t.pods.map((p) => p.agent.serve({ proto: 'tcp', port: 80 }))); });
//     it('…', async () => {
//       await topo().runOnNode(['node', 'bin/moat', 'apply', '-f', file]);   // BPF pins visible (nsenter)
//       const outcomes = await probeMatrix(podPairCases(topo().pods, topo().pods, { protos: ['tcp'], ports: [80] }));
//       // outcome.result: { ok, from (answering pod), peer (source IP it saw), error: 'timeout' | 'refused' | … }
//     });
//   });
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { uniqueStem } from './cleanup.js';

export { Connection, PodAgent } from './agent.js';
export type { ProbeErrorCode, ProbeRequest, ProbeResult, ProbeTarget, Proto, SctpSupport, ServeOptions } from './agent.js';
export { BackgroundProcess } from './background.js';
export { KIT_PREFIX, listNetns, reapStaleNamespaces } from './cleanup.js';
export { CommandError, inNetns, netnsPath, run, runIn } from './exec.js';
export type { RunOptions, RunResult } from './exec.js';
export { describeOutcome, podPairCases, probeMatrix } from './probe-matrix.js';
export type { MatrixOptions, PodPairCase, PodPairOptions, ProbeCase, ProbeOutcome } from './probe-matrix.js';
export { createTopology, Topology } from './topology.js';
export type { NodeInfo, PodInfo, PodSpec, TopologyKind, TopologySpec } from './topology.js';

const REQUIRED_TOOLS = ['/usr/bin/python3', '/usr/bin/nsenter'];

/** Why netns tests cannot run here, or undefined when they can (root, tools present, netns creatable). */
function missingPrivilege(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const missingTool = REQUIRED_TOOLS.find((tool) => !existsSync(tool));
  if (missingTool !== undefined) return `${missingTool} is missing`;
  const probe = `${uniqueStem('probe')}-check`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe', timeout: 5000 });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe', timeout: 5000 });
    return undefined;
  } catch (error) {
    return `cannot create a network namespace: ${(error as Error).message.split('\n')[0]}`;
  }
}

const privilegeProblem = missingPrivilege();

/** Root and able to create network namespaces. */
export const privileged: boolean = privilegeProblem === undefined;
export const privilegeReason: string = privilegeProblem ?? 'privileged';
/** The CI rule: skip (with privilegeReason) only when unprivileged AND not under CI, where a skip must fail instead. */
export const skipNetnsTests: boolean = !privileged && process.env.CI !== 'true';
