import { describe, expect, it } from 'vitest';
import { computeIdentities, IDENTITY_HOST, IDENTITY_WORLD, type IdentityReferences } from '../../src/policy/identities.js';
import type { ClusterState, Pod } from '../../src/policy/model.js';

function pod(namespace: string, name: string, ips: string[], extra: Partial<Pod> = {}): Pod {
  return { namespace, name, labels: {}, annotations: {}, ips, hostNetwork: false, ports: [], ...extra };
}

function state(pods: Pod[]): ClusterState {
  return {
    node: { name: 'n', ips: [] },
    namespaces: [
      { name: 'x', labels: { team: 'red', env: 'prod' } },
      { name: 'y', labels: { team: 'red', env: 'dev' } },
    ],
    pods,
    policies: [],
    services: [],
    endpointSlices: [],
  };
}

const refs = (over: Partial<IdentityReferences> = {}): IdentityReferences => ({
  podLabelKeys: new Set(['app']),
  namespaceLabelKeys: new Set(['team']),
  egressNamedPorts: new Set(),
  egressNamedPortBlocks: [],
  ...over,
});

describe('computeIdentities', () => {
  it('keys identities by namespace and the referenced labels only', () => {
    const identities = computeIdentities(
      state([
        pod('x', 'a', ['10.0.0.1'], { labels: { app: 'web', version: '1' } }),
        pod('x', 'b', ['10.0.0.2'], { labels: { app: 'web', version: '2' } }),
        pod('y', 'c', ['10.0.0.3'], { labels: { app: 'web' } }),
      ]),
      refs(),
    );
    expect(identities.infos.map((info) => [info.namespace, info.labels])).toEqual(
      expect.arrayContaining([
        ['x', { app: 'web', 'ns:team': 'red' }],
        ['y', { app: 'web', 'ns:team': 'red' }],
      ]),
    );
    expect(identities.infos).toHaveLength(2);
    expect(identities.ofAddress.get('10.0.0.1')).toBe(identities.ofAddress.get('10.0.0.2'));
    expect(identities.ofAddress.get('10.0.0.1')).not.toBe(identities.ofAddress.get('10.0.0.3'));
    for (const info of identities.infos) expect(info.id).toBeGreaterThanOrEqual(256);
    expect([IDENTITY_WORLD, IDENTITY_HOST]).toEqual([0, 1]);
  });

  it('gives a namespace missing from the state the label the API server sets', () => {
    const identities = computeIdentities(state([pod('ghost', 'a', ['10.0.0.1'])]), refs({ namespaceLabelKeys: new Set(['kubernetes.io/metadata.name']) }));
    expect(identities.infos[0]?.labels).toEqual({ 'ns:kubernetes.io/metadata.name': 'ghost' });
  });

  it('adds the named-port signature only for names egress rules use', () => {
    const withPort = (name: string, port: number) => pod('x', name, [`10.0.0.${port % 250}`], { ports: [{ name: 'http', port, protocol: 'TCP' }] });
    const pods = [withPort('a', 80), withPort('b', 81)];
    expect(computeIdentities(state(pods), refs()).infos).toHaveLength(1);
    const split = computeIdentities(state(pods), refs({ egressNamedPorts: new Set(['http/TCP']) }));
    expect(split.infos.map((info) => info.labels['port:http/TCP']).sort()).toEqual(['80', '81']);
    expect(split.members.map((m) => m.namedPorts.get('http/TCP'))).toEqual(expect.arrayContaining([[80], [81]]));
    // The UDP name is a different port: a pod without it does not resolve it.
    const udp = computeIdentities(state(pods), refs({ egressNamedPorts: new Set(['http/UDP']) }));
    expect(udp.infos).toHaveLength(1);
  });

  it('splits by named-port ipBlock membership per address', () => {
    const dual = pod('x', 'a', ['10.0.0.1', 'fd00::1']);
    const identities = computeIdentities(state([dual]), refs({ egressNamedPorts: new Set(['dns/UDP']), egressNamedPortBlocks: [{ cidr: '10.0.0.0/24', except: [] }] }));
    expect(identities.infos).toHaveLength(2);
    const v4 = identities.members.find((m) => m.id === identities.ofAddress.get('10.0.0.1'));
    const v6 = identities.members.find((m) => m.id === identities.ofAddress.get('fd00::1'));
    expect([...(v4?.blocks ?? [])]).toEqual(['10.0.0.0/24']);
    expect([...(v6?.blocks ?? [])]).toEqual([]);
  });

  it('skips host-network and address-less pods, and gives a shared address to the first pod by name', () => {
    const identities = computeIdentities(
      state([
        pod('x', 'z-late', ['10.0.0.1'], { labels: { app: 'late' } }),
        pod('x', 'a-early', ['10.0.0.1'], { labels: { app: 'early' } }),
        pod('x', 'host', ['192.168.0.1'], { hostNetwork: true }),
        pod('x', 'pending', []),
      ]),
      refs(),
    );
    expect([...identities.ofAddress.keys()]).toEqual(['10.0.0.1']);
    const owner = identities.members.find((m) => m.id === identities.ofAddress.get('10.0.0.1'));
    expect(owner?.podLabels).toEqual({ app: 'early' });
    expect(identities.infos).toHaveLength(1);
  });

  it('canonicalises addresses', () => {
    const identities = computeIdentities(state([pod('x', 'a', ['FD00:0:0::1'])]), refs());
    expect([...identities.ofAddress.keys()]).toEqual(['fd00::1']);
  });
});
