// Many probes at once: a full x/y/z × a/b/c matrix over several ports and protocols finishes in
// seconds because probes run concurrently across (and within) the pod agents.
import type { PodAgent, ProbeRequest, ProbeResult, Proto } from './agent.js';
import type { PodInfo } from './topology.js';

export interface ProbeCase extends ProbeRequest {
  from: PodAgent;
}

export interface ProbeOutcome<C extends ProbeCase> {
  case: C;
  result: ProbeResult;
}

export interface MatrixOptions {
  /** Probes in flight at once across all agents; default 64. */
  concurrency?: number;
}

/** Run every case, at most `concurrency` at a time; outcomes come back in the order of `cases`. */
export async function probeMatrix<C extends ProbeCase>(cases: readonly C[], options: MatrixOptions = {}): Promise<Array<ProbeOutcome<C>>> {
  const concurrency = options.concurrency ?? 64;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`probeMatrix: concurrency ${concurrency} must be a positive integer`);
  const outcomes = new Array<ProbeOutcome<C>>(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const index = next++;
      const probeCase = cases[index] as C;
      outcomes[index] = { case: probeCase, result: await probeCase.from.probe(probeCase) };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, cases.length) }, worker));
  return outcomes;
}

export interface PodPairCase extends ProbeCase {
  fromPod: PodInfo;
  toPod: PodInfo;
}

export interface PodPairOptions {
  protos: readonly Proto[];
  ports: readonly number[];
  /** Address family of the destination; default 4. */
  family?: 4 | 6;
  timeoutMs?: number;
  /** Include probes from a pod to itself (through its own IP); default true. */
  includeSelf?: boolean;
}

/** Every (from, to, proto, port) combination, ready for probeMatrix. */
export function podPairCases(from: readonly PodInfo[], to: readonly PodInfo[], options: PodPairOptions): PodPairCase[] {
  const cases: PodPairCase[] = [];
  for (const fromPod of from) {
    for (const toPod of to) {
      if (options.includeSelf === false && fromPod === toPod) continue;
      const ip = options.family === 6 ? toPod.ipv6 : toPod.ipv4;
      if (ip === undefined) throw new Error(`podPairCases: pod ${toPod.namespace}/${toPod.name} has no IPv6 address (topology without ipv6)`);
      for (const proto of options.protos) {
        for (const port of options.ports) {
          cases.push({ from: fromPod.agent, fromPod, toPod, proto, ip, port, timeoutMs: options.timeoutMs });
        }
      }
    }
  }
  return cases;
}

/** One line per outcome, for assertion messages: "x/a -> y/b tcp/80: ok from b" or "...: timeout". */
export function describeOutcome(outcome: ProbeOutcome<PodPairCase>): string {
  const { case: probe, result } = outcome;
  const route = `${probe.fromPod.namespace}/${probe.fromPod.name} -> ${probe.toPod.namespace}/${probe.toPod.name} ${probe.proto}/${probe.port}`;
  return `${route}: ${result.ok ? `ok from ${result.from}` : `${result.error} (${result.detail})`}`;
}
