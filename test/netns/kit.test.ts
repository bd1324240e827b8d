// The netns kit itself: real topologies (bridge/routed, v4/v6, one or two nodes), real sockets,
// pod identity in replies, failure modes of probes, long-lived connections, guaranteed cleanup.
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CommandError,
  createTopology,
  describeOutcome,
  listNetns,
  podPairCases,
  probeMatrix,
  reapStaleNamespaces,
  run,
  runIn,
  type PodInfo,
  type Topology,
  type TopologySpec,
} from '../helpers/netns.js';
import { describeNetns, useTopology } from '../helpers/netns-vitest.js';

const SERVED_PORTS = [80, 81];
const CLOSED_PORT = 82;
const DROPPED_PORT = 83;
const PAYLOAD = 'hello from the netns kit';

const XYZ_ABC = ['x', 'y', 'z'].flatMap((namespace) => ['a', 'b', 'c'].map((name) => ({ namespace, name })));
const THREE_PODS_TWO_NODES = [
  { namespace: 'x', name: 'a', node: 0 },
  { namespace: 'x', name: 'b', node: 0 },
  { namespace: 'y', name: 'a', node: 1 },
];

async function serveEverywhere(topology: Topology): Promise<void> {
  await Promise.all(
    topology.pods.flatMap((pod) =>
      SERVED_PORTS.flatMap((port) => [pod.agent.serve({ proto: 'tcp', port }), pod.agent.serve({ proto: 'udp', port })]),
    ),
  );
}

interface LinkJson {
  ifindex: number;
  ifname: string;
  address: string;
  master?: string;
  addr_info?: Array<{ local: string; prefixlen: number }>;
}

async function linksIn(netns: string, ...selector: string[]): Promise<LinkJson[]> {
  const { stdout } = await runIn(netns, ['ip', '-j', 'addr', 'show', ...selector]);
  return JSON.parse(stdout) as LinkJson[];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reachability, identity and topology facts, shared by every topology shape. */
function topologySuite(title: string, spec: TopologySpec): void {
  describe(title, () => {
    const topology = useTopology(spec, serveEverywhere);
    const families = spec.ipv6 ? ([4, 6] as const) : ([4] as const);

    for (const family of families) {
      it(`every pod reaches every pod over TCP and UDP (IPv${family}), answered by the right pod`, async () => {
        const { pods } = topology();
        const cases = podPairCases(pods, pods, { protos: ['tcp', 'udp'], ports: SERVED_PORTS, family, timeoutMs: 3000 });
        const started = Date.now();
        const outcomes = await probeMatrix(cases.map((probe) => ({ ...probe, payload: PAYLOAD })), { concurrency: 64 });
        const elapsed = Date.now() - started;
        expect(outcomes).toHaveLength(pods.length * pods.length * 4);
        const wrong = outcomes.filter(({ case: probe, result }) => {
          const sourceIp = family === 6 ? probe.fromPod.ipv6 : probe.fromPod.ipv4;
          return !(result.ok && result.from === probe.toPod.name && result.reply === PAYLOAD && result.peer === sourceIp);
        });
        expect(wrong.map(describeOutcome)).toEqual([]);
        expect(elapsed).toBeLessThan(10_000);
      });
    }

    it('the node itself reaches every pod (node-originated traffic, like kubelet probes)', async () => {
      const { nodes, pods } = topology();
      const node = nodes[0]!;
      const results = await Promise.all(pods.map((pod) => node.agent.probe({ proto: 'tcp', ip: pod.ipv4, port: 80 })));
      results.forEach((result, index) => {
        expect(result, `node0 -> ${pods[index]!.name}`).toMatchObject({ ok: true, from: pods[index]!.name });
        expect([...node.ips, ...node.uplinkIps]).toContain(result.peer);
      });
    });

    it('describes each pod as it exists: host veth in its node namespace, addresses and MACs', async () => {
      const { nodes, pods } = topology();
      for (const pod of pods) {
        const nodeNetns = nodes[pod.node]!.netns;
        const [host] = await linksIn(nodeNetns, 'dev', pod.hostIfname);
        expect(host).toMatchObject({ ifindex: pod.hostIfindex, address: pod.hostMac });
        const [inside] = await linksIn(pod.netns, 'dev', pod.podIfname);
        expect(inside!.address).toBe(pod.mac);
        const addresses = (inside!.addr_info ?? []).map((info) => info.local);
        expect(addresses).toEqual(expect.arrayContaining(pod.ips));
        if (spec.kind === 'bridge') {
          expect(host!.master).toBe('cni0');
        } else {
          expect(pod.hostMac).toBe('ee:ee:ee:ee:ee:ee');
          expect((inside!.addr_info ?? []).find((info) => info.local === pod.ipv4)?.prefixlen).toBe(32);
        }
      }
    });

    if (spec.kind === 'bridge') {
      it(`bridged pod-to-pod traffic ${spec.brNetfilter ? 'passes' : 'bypasses'} the node's iptables (brNetfilter: ${spec.brNetfilter === true})`, async () => {
        const { pods } = topology();
        const [client, server] = pods.filter((pod) => pod.node === 0);
        const rule = ['FORWARD', '-p', 'tcp', '--dport', '81', '-j', 'DROP'];
        await topology().runOnNode(['iptables', '-I', ...rule]);
        try {
          const result = await client!.agent.probe({ proto: 'tcp', ip: server!.ipv4, port: 81, timeoutMs: 500 });
          expect(result).toMatchObject(spec.brNetfilter ? { ok: false, error: 'timeout' } : { ok: true, from: server!.name });
        } finally {
          await topology().runOnNode(['iptables', '-D', ...rule]);
        }
      });
    }

    if (spec.kind === 'routed') {
      it('pods resolve the Calico gateway 169.254.1.1 through proxy ARP on the host veth', async () => {
        const pod = topology().pods[0]!;
        const { stdout } = await runIn(pod.netns, ['ip', '-j', 'neigh', 'show', '169.254.1.1', 'dev', 'eth0']);
        const [neighbour] = JSON.parse(stdout) as Array<{ lladdr?: string }>;
        expect(neighbour?.lladdr).toBe('ee:ee:ee:ee:ee:ee');
      });
    }
  });
}

describeNetns('netns kit topologies', () => {
  topologySuite('bridge, 9 pods x/y/z × a/b/c (9×9×4 matrix)', { kind: 'bridge', pods: XYZ_ABC, tag: 'bridge' });
  topologySuite('routed, 9 pods x/y/z × a/b/c (9×9×4 matrix)', { kind: 'routed', pods: XYZ_ABC, tag: 'routed' });
  topologySuite('bridge, dual stack, br_netfilter', { kind: 'bridge', pods: XYZ_ABC.slice(0, 4), ipv6: true, brNetfilter: true });
  topologySuite('routed, dual stack', { kind: 'routed', pods: XYZ_ABC.slice(0, 4), ipv6: true });
  topologySuite('bridge, two nodes, dual stack', { kind: 'bridge', pods: THREE_PODS_TWO_NODES, ipv6: true, nodes: 2 });
  topologySuite('routed, two nodes, dual stack', { kind: 'routed', pods: THREE_PODS_TWO_NODES, ipv6: true, nodes: 2 });
});

describeNetns('netns kit probes and connections', () => {
  const topology = useTopology({ kind: 'bridge', pods: THREE_PODS_TWO_NODES.map(({ node: _node, ...pod }) => pod) }, async (made) => {
    await serveEverywhere(made);
    // A silent drop, like a policy verdict: nothing answers, not even an RST.
    for (const pod of made.pods) {
      for (const proto of ['tcp', 'udp']) {
        await runIn(pod.netns, ['iptables', '-A', 'INPUT', '-p', proto, '--dport', String(DROPPED_PORT), '-j', 'DROP']);
      }
    }
  });
  const pair = (): { client: PodInfo; server: PodInfo } => ({ client: topology().pod('x/a'), server: topology().pod('x/b') });

  it('a closed port fails fast: RST for TCP, ICMP port unreachable for UDP', async () => {
    const { client, server } = pair();
    for (const proto of ['tcp', 'udp'] as const) {
      const started = Date.now();
      const result = await client.agent.probe({ proto, ip: server.ipv4, port: CLOSED_PORT, timeoutMs: 5000 });
      expect(result, proto).toMatchObject({ ok: false, error: 'refused' });
      expect(Date.now() - started).toBeLessThan(1000);
    }
  });

  it('a silently dropped probe times out at its deadline, neither much earlier nor much later', async () => {
    const { client, server } = pair();
    const outcomes = await Promise.all(
      (['tcp', 'udp'] as const).map(async (proto) => {
        const started = Date.now();
        const result = await client.agent.probe({ proto, ip: server.ipv4, port: DROPPED_PORT, timeoutMs: 400 });
        return { result, wall: Date.now() - started };
      }),
    );
    for (const { result, wall } of outcomes) {
      expect(result).toMatchObject({ ok: false, error: 'timeout' });
      expect(result.elapsedMs).toBeGreaterThanOrEqual(390);
      expect(wall).toBeGreaterThanOrEqual(390);
      expect(wall).toBeLessThan(1500);
    }
  });

  it('a binary payload (PROXY protocol v2 header) is sent as is and echoed', async () => {
    const { client, server } = pair();
    const signature = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
    const header = Buffer.concat([signature, Buffer.from([0x21, 0x11, 0x00, 0x0c]), Buffer.from([10, 9, 9, 9, 10, 200, 1, 11, 0x30, 0x39, 0x00, 0x50])]);
    const result = await client.agent.probe({ proto: 'tcp', ip: server.ipv4, port: 80, payload: header });
    expect(result).toMatchObject({ ok: true, from: server.name });
  });

  it('connectOnly probes reach servers that are not kit echo servers (a raw PROXY v1 line arrives intact)', async () => {
    const { client, server } = pair();
    const listener = topology().startIn(server.netns, [
      '/usr/bin/python3',
      '-c',
      'import socket; s = socket.create_server(("0.0.0.0", 9099)); print("listening", flush=True); ' +
        'c, _ = s.accept(); print("got", c.recv(200), flush=True)',
    ]);
    await listener.waitForOutput(/listening/);
    const proxyLine = `PROXY TCP4 ${client.ipv4} ${server.ipv4} 40000 9099\r\n`;
    const result = await client.agent.probe({ proto: 'tcp', ip: server.ipv4, port: 9099, payload: proxyLine, connectOnly: true });
    expect(result).toMatchObject({ ok: true });
    await listener.waitForOutput(/got b'PROXY TCP4/);
    expect(listener.output).toContain(`PROXY TCP4 ${client.ipv4} ${server.ipv4} 40000 9099\\r\\n`);
    await listener.stop();
    expect(await client.agent.probe({ proto: 'tcp', ip: server.ipv4, port: 9099, connectOnly: true })).toMatchObject({ ok: false, error: 'refused' });
    expect(await client.agent.probe({ proto: 'udp', ip: server.ipv4, port: 80, connectOnly: true })).toMatchObject({ ok: false, error: 'error' });
  });

  it('a long-lived TCP connection still works after seconds idle, stalls while dropped, and recovers', async () => {
    const { client, server } = pair();
    const connection = await client.agent.openConnection({ proto: 'tcp', ip: server.ipv4, port: 81, timeoutMs: 2000 });
    expect(connection.from).toBe(server.name);
    expect(await connection.send('first')).toMatchObject({ ok: true, reply: 'first' });
    await sleep(2500);
    expect(await connection.send('after idle')).toMatchObject({ ok: true, reply: 'after idle' });

    // Cut the established flow on its next packet (what a revoked policy does), then restore it.
    const rule = ['INPUT', '-p', 'tcp', '--dport', '81', '-j', 'DROP'];
    await runIn(server.netns, ['iptables', '-I', ...rule]);
    try {
      expect(await connection.send('while cut', { timeoutMs: 500 })).toMatchObject({ ok: false, error: 'timeout' });
    } finally {
      await runIn(server.netns, ['iptables', '-D', ...rule]);
    }
    // TCP retransmits the lost segment; the echo owed for it is consumed before this one.
    expect(await connection.send('restored', { timeoutMs: 5000 })).toMatchObject({ ok: true, reply: 'restored' });
    await connection.close();
  });

  it('a connected UDP socket keeps exchanging datagrams and names the answering pod', async () => {
    const { client, server } = pair();
    const connection = await client.agent.openConnection({ proto: 'udp', ip: server.ipv4, port: 80 });
    expect(await connection.send('one')).toMatchObject({ ok: true, from: server.name, reply: 'one', peer: client.ipv4 });
    await sleep(1000);
    expect(await connection.send('two')).toMatchObject({ ok: true, from: server.name, reply: 'two' });
    await connection.close();
  });

  it('closeConnections() closes what a test left open', async () => {
    const { client, server } = pair();
    const connection = await client.agent.openConnection({ proto: 'tcp', ip: server.ipv4, port: 80 });
    await topology().closeConnections();
    await expect(connection.send('gone')).resolves.toMatchObject({ ok: false, error: 'error' });
  });

  it('SCTP works when the kernel has it, and is reported unsupported with the reason otherwise', async () => {
    const { client, server } = pair();
    if (server.agent.sctp.supported) {
      await server.agent.serve({ proto: 'sctp', port: 80 });
      expect(await client.agent.probe({ proto: 'sctp', ip: server.ipv4, port: 80 })).toMatchObject({ ok: true, from: server.name });
    } else {
      expect(server.agent.sctp.reason).toMatch(/SCTP/);
      await expect(server.agent.serve({ proto: 'sctp', port: 80 })).rejects.toThrow(/serve .*sctp.*SCTP sockets unavailable/);
      expect(await client.agent.probe({ proto: 'sctp', ip: server.ipv4, port: 80 })).toMatchObject({ ok: false, error: 'unsupported' });
    }
  });

  it('probes from one pod run concurrently: 40 dropped probes cost one deadline, not forty', async () => {
    const { client, server } = pair();
    const cases = Array.from({ length: 40 }, () => ({ from: client.agent, proto: 'udp' as const, ip: server.ipv4, port: DROPPED_PORT, timeoutMs: 300 }));
    const started = Date.now();
    const outcomes = await probeMatrix(cases, { concurrency: 40 });
    expect(outcomes.every(({ result }) => result.error === 'timeout')).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('runIn runs inside the namespace, rejects on failure and kills on timeout', async () => {
    const { server } = pair();
    const { stdout } = await runIn(server.netns, ['ip', '-j', 'addr', 'show', 'dev', 'eth0']);
    expect(stdout).toContain(server.ipv4);
    await expect(runIn(server.netns, ['ip', 'link', 'show', 'dev', 'no-such-link'])).rejects.toThrow(CommandError);
    const failed = await runIn(server.netns, ['false'], { check: false });
    expect(failed.code).toBe(1);
    const started = Date.now();
    await expect(runIn(server.netns, ['sleep', '10'], { timeoutMs: 200 })).rejects.toThrow(/sleep 10: timed out after 200 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function netnsListed(): Promise<string[]> {
  const { stdout } = await run(['ip', 'netns', 'list']);
  return stdout.split('\n').map((line) => line.split(' ')[0] ?? '').filter(Boolean);
}

describeNetns('netns kit cleanup', () => {
  const leftovers: string[] = [];
  afterAll(async () => {
    if (leftovers.length > 0) await run(['ip', '-force', '-batch', '-'], { input: leftovers.map((name) => `netns del ${name}\n`).join(''), check: false });
  });

  it('destroy() kills agents and background processes and leaves no namespace behind', async () => {
    const topology = await createTopology({ kind: 'routed', pods: THREE_PODS_TWO_NODES, nodes: 2, ipv6: true, tag: 'destroy' });
    const names = [...topology.netnsNames];
    const sleeper = topology.startIn(topology.pods[0]!.netns, ['sleep', '60']);
    const pids = [...topology.nodes.map((node) => node.agent.pid), ...topology.pods.map((pod) => pod.agent.pid), sleeper.pid];
    expect(names).toHaveLength(5);
    expect(await netnsListed()).toEqual(expect.arrayContaining(names));
    let deferredRan = false;
    topology.defer(() => {
      deferredRan = true;
    });

    await topology.destroy();

    expect(deferredRan).toBe(true);
    const listed = await netnsListed();
    expect(names.filter((name) => listed.includes(name))).toEqual([]);
    expect(pids.filter(pidAlive)).toEqual([]);
    await topology.destroy(); // idempotent
  });

  it('rejects specs it cannot build, naming the pod, before creating anything', async () => {
    const before = listNetns();
    await expect(createTopology({ kind: 'bridge', pods: [{ name: 'a', node: 1 }] })).rejects.toThrow(/pod default\/a: node 1 does not exist/);
    await expect(createTopology({ kind: 'bridge', pods: [{ name: 'a' }, { name: 'a' }] })).rejects.toThrow(/pod default\/a: listed twice/);
    expect(listNetns()).toEqual(before);
  });

  it('reaps namespaces of dead kit runs only: never a live owner, never a foreign namespace', async () => {
    const deadPid = spawnSync('true').pid;
    expect(deadPid).toBeGreaterThan(0);
    expect(pidAlive(deadPid!)).toBe(false);
    const stale = `mkit${deadPid}-1-n0`;
    const liveOwner = `mkit${process.ppid}-1-n0`;
    const foreign = `notmkit${deadPid}-1-n0`;
    leftovers.push(stale, liveOwner, foreign);
    await run(['ip', '-batch', '-'], { input: [stale, liveOwner, foreign].map((name) => `netns add ${name}\n`).join('') });

    const reaped = reapStaleNamespaces();

    expect(reaped).toContain(stale);
    expect(reaped).not.toContain(liveOwner);
    expect(reaped).not.toContain(foreign);
    const listed = await netnsListed();
    expect(listed).not.toContain(stale);
    expect(listed).toEqual(expect.arrayContaining([liveOwner, foreign]));
  });
});
