import { describe, expect, it } from 'vitest';
import type { DesiredDatapath, DesiredEndpoint, PolicyEntry } from '../../src/policy/desired.js';
import { DatapathSimulator, type SimulatedPacket } from '../../src/policy/lookup.js';

const endpoint = (over: Partial<DesiredEndpoint> = {}): DesiredEndpoint => ({
  namespace: 'x', name: 'a', endpointId: 5, identity: 300, ips: ['10.0.0.1'],
  isolateIngress: true, isolateEgress: false, audit: false, guardPorts: [], ...over,
});

const rule = (over: Partial<PolicyEntry>): PolicyEntry => ({
  endpointId: 5, direction: 'ingress', peerKind: 'any', peerId: 0, protocol: 6, port: 80, portPrefixLen: 16, ruleId: 1, ...over,
});

function datapath(policy: PolicyEntry[], over: Partial<DesiredDatapath> = {}): DesiredDatapath {
  return {
    endpoints: [endpoint()],
    ipcache: [
      { cidr: '10.0.0.1/32', identity: 300, endpointId: 5 },
      { cidr: '10.0.0.2/32', identity: 301, endpointId: 0 },
      { cidr: '192.168.0.1/32', identity: 1, endpointId: 0 },
    ],
    cidrAtoms: [
      { cidr: '10.0.0.0/8', atom: 40 },
      { cidr: '10.0.0.0/24', atom: 41 },
      { cidr: '::/0', atom: 42 },
      { cidr: '0.0.0.0/0', atom: 0 },
    ],
    policy,
    services: [],
    rules: [],
    identities: [],
    problems: [],
    ...over,
  };
}

const toA = (src: string, dstPort = 80, protocol = 6, extra: Partial<SimulatedPacket> = {}): SimulatedPacket => ({ src, dst: '10.0.0.1', protocol, dstPort, ...extra });

describe('DatapathSimulator', () => {
  it('looks up identity, then CIDR atom, then any peer, and reports the matching rule', () => {
    const sim = new DatapathSimulator(datapath([
      rule({ peerKind: 'identity', peerId: 301, ruleId: 11 }),
      rule({ peerKind: 'cidr', peerId: 41, ruleId: 12 }),
      rule({ peerKind: 'any', peerId: 0, port: 81, ruleId: 13 }),
    ]));
    expect(sim.packet(toA('10.0.0.2')).ingress).toMatchObject({ verdict: 'allow', reason: 'policy-allow', ruleId: 11 });
    expect(sim.packet(toA('10.0.0.3')).ingress).toMatchObject({ verdict: 'allow', ruleId: 12 });
    expect(sim.packet(toA('10.1.0.3')).ingress).toMatchObject({ verdict: 'drop', reason: 'policy-deny', ruleId: 0 });
    expect(sim.packet(toA('10.1.0.3', 81)).ingress).toMatchObject({ verdict: 'allow', ruleId: 13 });
  });

  it('takes the longest matching prefix over protocol and port', () => {
    const sim = new DatapathSimulator(datapath([
      rule({ protocol: null, port: 0, portPrefixLen: 0, ruleId: 21 }),
      rule({ protocol: 6, port: 0, portPrefixLen: 0, ruleId: 22 }),
      rule({ protocol: 6, port: 8000, portPrefixLen: 10, ruleId: 23 }),
      rule({ protocol: 6, port: 8080, portPrefixLen: 16, ruleId: 24 }),
    ]));
    expect(sim.packet(toA('1.1.1.1', 8080)).ingress?.ruleId).toBe(24);
    expect(sim.packet(toA('1.1.1.1', 8063)).ingress?.ruleId).toBe(23);
    expect(sim.packet(toA('1.1.1.1', 8064)).ingress?.ruleId).toBe(22);
    expect(sim.packet(toA('1.1.1.1', 0, 1)).ingress?.ruleId).toBe(21);
  });

  it('never lets an IPv6 prefix answer for an IPv4 address', () => {
    const sim = new DatapathSimulator(datapath([rule({ peerKind: 'cidr', peerId: 42, ruleId: 31 })]));
    expect(sim.packet(toA('172.16.0.1')).ingress?.verdict).toBe('drop');
  });

  it('passes unisolated directions, node traffic and audit, but never a guarded port', () => {
    const open = new DatapathSimulator(datapath([], { endpoints: [endpoint({ isolateIngress: false, guardPorts: [15088] })] }));
    expect(open.packet(toA('10.0.0.2')).ingress?.reason).toBe('not-isolated');
    expect(open.packet(toA('10.0.0.2', 15088)).verdict).toBe('drop');
    expect(open.packet(toA('10.0.0.2', 15088, 17)).verdict).toBe('allow');
    const audit = new DatapathSimulator(datapath([], { endpoints: [endpoint({ audit: true, guardPorts: [15088] })] }));
    expect(audit.packet(toA('10.0.0.2')).verdict).toBe('would-drop');
    expect(audit.packet(toA('10.0.0.2', 15088)).ingress?.reason).toBe('loopback-only');
    expect(audit.packet(toA('10.0.0.2', 15088, 6, { fromNode: true })).verdict).toBe('drop');
    expect(audit.packet(toA('10.0.0.2', 80, 6, { fromNode: true })).ingress?.reason).toBe('from-node');
  });

  it('judges both local ends, and a pod talking to itself at neither', () => {
    const b = endpoint({ name: 'b', endpointId: 6, identity: 302, ips: ['10.0.0.3'], isolateIngress: false, isolateEgress: true });
    const sim = new DatapathSimulator(datapath([rule({ peerKind: 'identity', peerId: 302, ruleId: 7 })], {
      endpoints: [endpoint(), b],
      ipcache: [
        { cidr: '10.0.0.1/32', identity: 300, endpointId: 5 },
        { cidr: '10.0.0.3/32', identity: 302, endpointId: 6 },
      ],
    }));
    const decision = sim.packet(toA('10.0.0.3'));
    expect(decision.ingress).toMatchObject({ verdict: 'allow', ruleId: 7 });
    expect(decision.egress).toMatchObject({ endpointId: 6, verdict: 'drop', reason: 'policy-deny' });
    expect(decision.verdict).toBe('drop');
    expect(sim.packet({ src: '10.0.0.1', dst: '10.0.0.1', protocol: 6, dstPort: 80 })).toMatchObject({ verdict: 'allow', samePod: true });
  });

  it('drops host guard ports on the node address unless the node talks to itself', () => {
    const sim = new DatapathSimulator(datapath([], { hostGuardPorts: [7000] }));
    const toNode = (src: string, extra: Partial<SimulatedPacket> = {}): SimulatedPacket => ({ src, dst: '192.168.0.1', protocol: 6, dstPort: 7000, ...extra });
    expect(sim.packet(toNode('10.0.0.2'))).toMatchObject({ verdict: 'drop', hostGuard: true });
    expect(sim.packet(toNode('192.168.0.1')).verdict).toBe('allow');
    expect(sim.packet(toNode('10.0.0.2', { fromNode: true })).verdict).toBe('allow');
  });
});
