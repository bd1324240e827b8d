// The compiler: ClusterState → DesiredDatapath, pure and deterministic (same input → deep-equal output).
//
// Per local endpoint and direction, every allow rule that applies becomes policy entries keyed by
// (peer kind, peer id, protocol, port prefix); the BPF program looks up the packet's identity, its CIDR
// atom and "any peer", and a hit on any of them allows. Rules are a union, so entries are never
// subtracted, only added.
import type { DesiredDatapath, DesiredEndpoint, IpcacheEntry, PolicyProblem, ServiceFrontend } from './desired.js';
import { guardedPorts, resolveMode } from './annotations.js';
import { buildCidrAtoms } from './cidr-atoms.js';
import { byText, identityReferences, ipBlocksOf, isLocal, planEndpoints, podKey, type EndpointPlan } from './endpoint-plan.js';
import { computeIdentities, IDENTITY_HOST, isIdentityPod, namespaceOfPod, type Identities } from './identities.js';
import { formatCidr, formatIp, hostCidr, parseIp, tryParseIp } from './ip.js';
import type { ClusterState, LabelSelectorRequirement, Namespace, Pod, Service } from './model.js';
import { DEFAULT_WAYPOINT_SELECTORS, LABEL_MODE } from './model.js';
import { policyEntries } from './policy-entries.js';
import { protocolNumber } from './protocols.js';

export interface CompileOptions {
  /** Pods matching any of these requirements are waypoints (loopback-only ports guarded). */
  readonly waypointSelectors?: readonly LabelSelectorRequirement[];
}

function addressCidr(text: string): string {
  return formatCidr(hostCidr(parseIp(text)));
}

function ipcacheEntries(state: ClusterState, identities: Identities, endpointOfAddress: ReadonlyMap<string, number>): IpcacheEntry[] {
  const entries = new Map<string, IpcacheEntry>();
  for (const [address, identity] of identities.ofAddress) {
    entries.set(address, { cidr: addressCidr(address), identity, endpointId: endpointOfAddress.get(address) ?? 0 });
  }
  for (const text of state.node.ips) {
    const address = formatIp(parseIp(text));
    if (!entries.has(address)) entries.set(address, { cidr: addressCidr(address), identity: IDENTITY_HOST, endpointId: 0 });
  }
  return [...entries.values()].sort((a, b) => byText(a.cidr, b.cidr));
}

/** The pod's loopback-only TCP ports; configuration errors become problems (the other ports still count). */
function podGuardPorts(pod: Pod, waypointSelectors: readonly LabelSelectorRequirement[], problems: PolicyProblem[]): number[] {
  const guard = guardedPorts(pod, waypointSelectors);
  problems.push(...guard.errors.map((message) => ({ object: `Pod ${podKey(pod)}`, field: 'metadata.annotations', message })));
  return guard.ports;
}

function endpointOf(
  plan: EndpointPlan,
  identities: Identities,
  namespace: Namespace,
  waypointSelectors: readonly LabelSelectorRequirement[],
  problems: PolicyProblem[],
): DesiredEndpoint {
  const ips = plan.pod.ips.map((ip) => formatIp(parseIp(ip)));
  const mode = resolveMode(plan.pod, namespace);
  problems.push(...mode.errors.map((message) => ({ object: `Pod ${podKey(plan.pod)}`, field: `metadata.labels[${LABEL_MODE}]`, message })));
  return {
    namespace: plan.pod.namespace,
    name: plan.pod.name,
    endpointId: plan.endpointId,
    identity: identities.ofAddress.get(ips[0] as string) as number,
    ips,
    isolateIngress: plan.isolated.ingress,
    isolateEgress: plan.isolated.egress,
    audit: mode.mode === 'audit',
    guardPorts: podGuardPorts(plan.pod, waypointSelectors, problems),
  };
}

function serviceFrontends(services: readonly Service[]): ServiceFrontend[] {
  const frontends = new Map<string, ServiceFrontend>();
  for (const service of services) {
    for (const ip of service.clusterIPs) {
      const address = tryParseIp(ip);
      // "None" marks a headless Service: no frontend to defer.
      if (address === undefined) continue;
      for (const port of service.ports) {
        const frontend = { ip: formatIp(address), port: port.port, protocol: protocolNumber(port.protocol) };
        frontends.set(`${frontend.ip}|${frontend.port}|${frontend.protocol}`, frontend);
      }
    }
  }
  return [...frontends.values()].sort((a, b) => byText(a.ip, b.ip) || a.port - b.port || a.protocol - b.protocol);
}

export function compile(state: ClusterState, options: CompileOptions = {}): DesiredDatapath {
  const waypointSelectors = options.waypointSelectors ?? DEFAULT_WAYPOINT_SELECTORS;
  const localPods = state.pods.filter((pod) => isIdentityPod(pod) && isLocal(state, pod));
  localPods.sort((a, b) => byText(podKey(a), podKey(b)));
  const { infos, plans, problems } = planEndpoints(state, localPods);

  const applicable = [...new Set(plans.flatMap((plan) => plan.rules))];
  const identities = computeIdentities(state, identityReferences(applicable));
  const atoms = buildCidrAtoms(applicable.flatMap((rule) => ipBlocksOf(rule.rule)));

  const namespaces = new Map(state.namespaces.map((ns) => [ns.name, ns]));
  const endpoints = plans.map((plan) => endpointOf(plan, identities, namespaceOfPod(namespaces, plan.pod), waypointSelectors, problems));
  const hostGuardPorts = new Set(
    state.pods
      .filter((pod) => pod.hostNetwork && isLocal(state, pod))
      .flatMap((pod) => podGuardPorts(pod, waypointSelectors, problems)),
  );
  const endpointOfAddress = new Map(endpoints.flatMap((ep) => ep.ips.map((ip) => [ip, ep.endpointId] as const)));

  problems.sort((a, b) => byText(a.object, b.object) || byText(a.field, b.field) || byText(a.message, b.message));
  return {
    endpoints,
    ipcache: ipcacheEntries(state, identities, endpointOfAddress),
    cidrAtoms: atoms.entries,
    policy: policyEntries(plans, identities, atoms),
    services: serviceFrontends(state.services),
    rules: infos,
    identities: identities.infos,
    hostGuardPorts: [...hostGuardPorts].sort((a, b) => a - b),
    problems,
  };
}
