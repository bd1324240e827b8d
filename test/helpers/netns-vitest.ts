// Vitest glue for the netns kit: privileged suites that skip with a stated reason (never under CI),
// and topologies whose lifetime is bound to a describe block.
import { afterAll, afterEach, beforeAll, describe } from 'vitest';
import { createTopology, privilegeReason, skipNetnsTests, type Topology, type TopologySpec } from './netns.js';

/** describe() for tests that need root and network namespaces. */
export function describeNetns(name: string, body: () => void): void {
  describe.skipIf(skipNetnsTests)(skipNetnsTests ? `${name} (skipped: ${privilegeReason})` : name, body);
}

/**
 * A topology built in beforeAll and destroyed in afterAll (also on failure); after each test the
 * long-lived connections the test left open are closed. `setup` runs once after creation (start
 * servers there). Call the returned function inside tests to get the topology.
 */
export function useTopology(spec: TopologySpec, setup?: (topology: Topology) => Promise<void>): () => Topology {
  let topology: Topology | undefined;
  beforeAll(async () => {
    topology = await createTopology(spec);
    await setup?.(topology);
  });
  afterEach(async () => {
    await topology?.closeConnections();
  });
  afterAll(async () => {
    await topology?.destroy();
  });
  return () => {
    if (topology === undefined) throw new Error(`useTopology(${spec.kind}): topology not created (beforeAll failed or not run yet)`);
    return topology;
  };
}
