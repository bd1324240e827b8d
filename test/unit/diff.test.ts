import { describe, expect, it } from 'vitest';
import { compile } from '../../src/policy/compile.js';
import type { DesiredDatapath, PolicyEntry } from '../../src/policy/desired.js';
import { diff, isEmptyDiff } from '../../src/policy/diff.js';
import type { ClusterState, Pod } from '../../src/policy/model.js';
import { MATCH_EVERYTHING } from '../../src/policy/selectors.js';

const EMPTY: DesiredDatapath = { endpoints: [], ipcache: [], cidrAtoms: [], policy: [], services: [], rules: [], identities: [], problems: [] };

const entry = (over: Partial<PolicyEntry>): PolicyEntry => ({
  endpointId: 1, direction: 'ingress', peerKind: 'any', peerId: 0, protocol: 6, port: 80, portPrefixLen: 16, ruleId: 7, ...over,
});

function pod(name: string, ip: string, labels: Record<string, string> = {}): Pod {
  return { namespace: 'x', name, labels, annotations: {}, ips: [ip], hostNetwork: false, ports: [] };
}

function state(pods: Pod[], allowFromWeb: boolean): ClusterState {
  return {
    node: { name: '', ips: [] },
    namespaces: [{ name: 'x', labels: {} }],
    pods,
    policies: allowFromWeb
      ? [{ namespace: 'x', name: 'p', podSelector: MATCH_EVERYTHING, policyTypes: ['ingress'], ingress: [{ peers: [{ kind: 'pods', podSelector: { matchLabels: { app: 'web' }, matchExpressions: [] } }], ports: [] }], egress: [] }]
      : [],
    services: [],
    endpointSlices: [],
  };
}

describe('diff', () => {
  it('upserts everything from nothing and nothing from itself', () => {
    const next = compile(state([pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { app: 'web' })], true));
    const first = diff(undefined, next);
    expect(first.policy.upserts).toEqual(next.policy);
    expect(first.ipcache.upserts).toEqual(next.ipcache);
    expect(first.endpoints.deletes).toEqual([]);
    expect(isEmptyDiff(diff(next, next))).toBe(true);
    expect(isEmptyDiff(first)).toBe(false);
  });

  it('deletes what the next state lacks and leaves the unchanged alone', () => {
    const before = compile(state([pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { app: 'web' })], true));
    const after = compile(state([pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { app: 'web' })], false));
    const changes = diff(before, after);
    expect(changes.policy.deletes).toEqual(before.policy);
    expect(changes.policy.upserts).toEqual([]);
    expect(changes.endpoints.upserts.map((e) => [e.name, e.isolateIngress])).toEqual([['a', false], ['b', false]]);
    // No selector references app any more, so both pods share one identity: ipcache values change in place.
    expect(changes.ipcache.deletes).toEqual([]);
  });

  it('rewrites an entry whose value changed, once, without deleting its key', () => {
    const changes = diff({ ...EMPTY, policy: [entry({ ruleId: 7 })] }, { ...EMPTY, policy: [entry({ ruleId: 3 })] });
    expect(changes.policy).toEqual({ upserts: [entry({ ruleId: 3 })], deletes: [] });
  });

  it('compares policy entries by the map key they occupy', () => {
    // Port bits below the prefix, and the port of an every-protocol entry, are not part of the key.
    const masked = diff({ ...EMPTY, policy: [entry({ port: 8000, portPrefixLen: 10 })] }, { ...EMPTY, policy: [entry({ port: 8001, portPrefixLen: 10 })] });
    expect(isEmptyDiff(masked)).toBe(true);
    const anyProtocol = diff(
      { ...EMPTY, policy: [entry({ protocol: null, port: 0, portPrefixLen: 0 })] },
      { ...EMPTY, policy: [entry({ protocol: null, port: 80, portPrefixLen: 16 })] },
    );
    expect(isEmptyDiff(anyProtocol)).toBe(true);
    const otherDirection = diff({ ...EMPTY, policy: [entry({})] }, { ...EMPTY, policy: [entry({ direction: 'egress' })] });
    expect(otherDirection.policy).toEqual({ upserts: [entry({ direction: 'egress' })], deletes: [entry({})] });
  });

  it('diffs services and host guard ports as sets', () => {
    const changes = diff(
      { ...EMPTY, services: [{ ip: '10.96.0.1', port: 80, protocol: 6 }], hostGuardPorts: [7000] },
      { ...EMPTY, services: [{ ip: '10.96.0.1', port: 443, protocol: 6 }], hostGuardPorts: [7000, 7001] },
    );
    expect(changes.services).toEqual({ upserts: [{ ip: '10.96.0.1', port: 443, protocol: 6 }], deletes: [{ ip: '10.96.0.1', port: 80, protocol: 6 }] });
    expect(changes.hostGuardPorts).toEqual({ upserts: [7001], deletes: [] });
  });
});
