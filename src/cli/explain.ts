// `moat explain`: what the compiled maps decide for one flow, and the policy or annotation rule behind it.
import type { DesiredDatapath, RuleInfo } from '../policy/desired.js';
import type { Flow, FlowEnd, Protocol } from '../policy/model.js';
import { compile } from '../policy/compile.js';
import { DatapathSimulator, packetOfFlow, type HookDecision } from '../policy/lookup.js';
import { tryParseIp } from '../policy/ip.js';
import { loadClusterState } from './manifests.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { Output } from './output.js';

export interface ExplainOptions {
  readonly file: string;
  readonly from: string;
  readonly to: string;
  readonly port: string;
  readonly nodeName: string;
}

function parseEnd(text: string, flag: string): FlowEnd {
  if (tryParseIp(text) !== undefined) return { ip: text };
  const [namespace, name, ...rest] = text.split('/');
  if (!namespace || !name || rest.length > 0) throw new Error(`${flag} ${text}: expected NAMESPACE/POD or an IP address`);
  return { pod: { namespace, name } };
}

function parsePort(text: string): Pick<Flow, 'protocol' | 'port'> {
  if (text.toLowerCase() === 'icmp') return { protocol: 'ICMP', port: 0 };
  const match = /^(\d{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(text);
  const port = Number(match?.[1]);
  if (!match || port < 1 || port > 65535) throw new Error(`--port ${text}: expected PORT[/tcp|udp|sctp] or icmp`);
  return { protocol: (match[2] ?? 'tcp').toUpperCase() as Protocol, port };
}

function describeRule(rules: ReadonlyMap<number, RuleInfo>, ruleId: number): string | undefined {
  const rule = rules.get(ruleId);
  if (!rule) return undefined;
  const o = rule.origin;
  const source = o.kind === 'networkpolicy' ? `NetworkPolicy ${o.namespace}/${o.name}` : `annotation ${o.key} on pod ${o.namespace}/${o.pod}`;
  return `${source}, ${rule.direction} rule #${rule.index}`;
}

interface HookExplanation {
  readonly endpoint: string;
  readonly direction: string;
  readonly verdict: string;
  readonly reason: string;
  readonly rule?: string;
}

function explainHook(desired: DesiredDatapath, rules: ReadonlyMap<number, RuleInfo>, hook: HookDecision | null): HookExplanation | null {
  if (hook === null) return null;
  const ep = desired.endpoints.find((e) => e.endpointId === hook.endpointId);
  const rule = describeRule(rules, hook.ruleId);
  return {
    endpoint: ep ? `${ep.namespace}/${ep.name}` : `endpoint ${hook.endpointId}`,
    direction: hook.direction,
    verdict: hook.verdict,
    reason: hook.reason,
    ...(rule !== undefined && { rule }),
  };
}

export function explain(options: ExplainOptions, out: Output): ExitCode {
  const loaded = loadClusterState(options.file, options.nodeName);
  if (!loaded.ok) {
    out.errors(loaded.errors);
    return EXIT.failed;
  }
  const flow: Flow = { from: parseEnd(options.from, '--from'), to: parseEnd(options.to, '--to'), ...parsePort(options.port) };
  const packet = packetOfFlow(loaded.state, flow);
  if (packet === undefined) {
    out.errors([`${options.from} and ${options.to} share no address family: no packet can flow`]);
    return EXIT.failed;
  }
  const desired = compile(loaded.state);
  const rules = new Map(desired.rules.map((r) => [r.ruleId, r]));
  const decision = new DatapathSimulator(desired).packet(packet);
  const hooks = [explainHook(desired, rules, decision.egress), explainHook(desired, rules, decision.ingress)].filter(
    (h): h is HookExplanation => h !== null,
  );
  const result = {
    flow: { from: options.from, to: options.to, src: packet.src, dst: packet.dst, protocol: flow.protocol, port: flow.port },
    verdict: decision.verdict,
    hostGuard: decision.hostGuard,
    samePod: decision.samePod,
    hooks,
    problems: desired.problems,
  };
  out.result(result, () => {
    const lines = [`${options.from} (${packet.src}) → ${options.to} (${packet.dst}) ${flow.protocol}/${flow.port}: ${decision.verdict.toUpperCase()}`];
    if (decision.samePod) lines.push('  same pod: the packet never crosses the veth');
    if (decision.hostGuard) lines.push('  dropped by the host guard: loopback-only port of a host-network pod');
    if (hooks.length === 0 && !decision.samePod) lines.push('  neither end is a pod moat enforces here');
    for (const h of hooks) {
      lines.push(`  ${h.direction.padEnd(7)} of ${h.endpoint}: ${h.verdict} (${h.reason})${h.rule ? ` by ${h.rule}` : ''}`);
    }
    for (const p of desired.problems) lines.push(`  note: ${p.object}: ${p.field}: ${p.message}`);
    return lines.join('\n');
  });
  return EXIT.ok;
}
