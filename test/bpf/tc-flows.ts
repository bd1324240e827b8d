// Flows of the netpol truth tables as packets through the TC programs, judged at each local side's own hook
// and combined like the oracle's verdict (shared by the oracle comparison and the fuzz test).
import { encodeEndpoint, encodeEndpointKey } from '../../src/datapath/codec.js';
import type { DesiredDatapath, DesiredEndpoint } from '../../src/policy/desired.js';
import { evaluate } from '../../src/policy/evaluate.js';
import type { ClusterState } from '../../src/policy/model.js';
import { DEFAULT_PLAN, flowFor, type EndpointName, type Outcome, type Probe } from '../helpers/netpol-tables.js';
import { buildPacket, ICMP4, TCP } from '../helpers/packets.js';
import { FORWARDED_INGRESS_IFINDEX, LOOPBACK_IFINDEX, type Hook, type TcHarness } from './tc-harness.js';

const SOURCE_PORT = 40000;

export function endpointAddress(name: EndpointName): string {
  if (name === 'node') return DEFAULT_PLAN.nodeIp;
  if (name === 'external') return DEFAULT_PLAN.externalIp;
  const [namespace = '', pod = ''] = name.split('/');
  return DEFAULT_PLAN.podIp(namespace, pod);
}

export function probeFrame(from: string, to: string, probe: Probe): Buffer {
  switch (probe.protocol) {
    case 'ICMP':
      return buildPacket({ src: from, dst: to, l4: { proto: 'icmp', type: ICMP4.ECHO, id: 1 } });
    case 'TCP':
      return buildPacket({ src: from, dst: to, l4: { proto: 'tcp', sport: SOURCE_PORT, dport: probe.port, flags: TCP.SYN } });
    case 'UDP':
      return buildPacket({ src: from, dst: to, l4: { proto: 'udp', sport: SOURCE_PORT, dport: probe.port } });
    case 'SCTP':
      return buildPacket({ src: from, dst: to, l4: { proto: 'sctp', sport: SOURCE_PORT, dport: probe.port } });
  }
}

/** Runs a packet through the flow's local hooks; the outcome combines both sides like the oracle's verdict. */
export class FlowJudge {
  private readonly endpoints: Map<string, DesiredEndpoint>;

  constructor(
    private readonly tc: TcHarness,
    readonly desired: DesiredDatapath,
  ) {
    this.endpoints = new Map(desired.endpoints.map((ep) => [`${ep.namespace}/${ep.name}`, ep]));
    tc.reset({ ipcache: desired.ipcache, cidrAtoms: desired.cidrAtoms, policy: desired.policy, services: desired.services });
  }

  private side(hook: Hook, ep: DesiredEndpoint, frame: Buffer, fromNode: boolean, repeat: number): Outcome {
    this.tc.forgetFlows();
    this.tc.map('endpoints').update(encodeEndpointKey(LOOPBACK_IFINDEX), encodeEndpoint(ep));
    this.tc.run(hook, frame, { ingressIfindex: fromNode ? 0 : FORWARDED_INGRESS_IFINDEX, repeat });
    const samples = this.tc.counters();
    const [sample] = samples;
    if (samples.length !== 1 || !sample) throw new Error(`${hook}: expected one counter, got ${JSON.stringify(samples, (_k, v) => (typeof v === 'bigint' ? Number(v) : v))}`);
    return sample.verdict === 'ALLOW' ? 'allow' : sample.verdict === 'DROP' ? 'drop' : 'would-drop';
  }

  outcome(from: EndpointName, to: EndpointName, frame: Buffer, repeat = 1): Outcome {
    const sides: Outcome[] = [];
    const source = this.endpoints.get(from);
    const destination = this.endpoints.get(to);
    if (source) sides.push(this.side('fromPod', source, frame, false, repeat));
    if (destination) sides.push(this.side('toPod', destination, frame, from === 'node', repeat));
    if (sides.includes('drop')) return 'drop';
    return sides.includes('would-drop') ? 'would-drop' : 'allow';
  }
}

export function oracleOutcome(state: ClusterState, from: EndpointName, to: EndpointName, probe: Probe): Outcome {
  return evaluate(state, flowFor(from, to, probe, DEFAULT_PLAN)).verdict;
}

