// The compiled maps, run through the real programs, must give evaluate()'s verdict for every (source, destination,
// protocol, port) of the named NetworkPolicy truth tables. Each local pod is judged at its own hook: the source's
// from-pod program with the source's endpoint, then the destination's to-pod program with the destination's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../../src/policy/compile.js';
import { caseDestinations, caseProbes, caseSources, caseState, NETPOL_CASES, probeLabel } from '../helpers/netpol-tables.js';
import { skipBpfSuite, TcHarness } from './tc-harness.js';
import { endpointAddress, FlowJudge, oracleOutcome, probeFrame } from './tc-flows.js';

describe.skipIf(skipBpfSuite())('TC datapath agrees with the oracle on the netpol truth tables', () => {
  let tc: TcHarness;

  beforeAll(() => {
    tc = TcHarness.open();
  });
  afterAll(() => tc?.close());

  it.each(NETPOL_CASES.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    const state = caseState(testCase);
    const judge = new FlowJudge(tc, compile(state));
    const mismatches: string[] = [];
    let checked = 0;
    for (const probe of caseProbes(testCase)) {
      for (const from of caseSources(testCase)) {
        for (const to of caseDestinations(testCase)) {
          if (from === to) continue; // a pod talking to itself never crosses its veth
          const expected = oracleOutcome(state, from, to, probe);
          const actual = judge.outcome(from, to, probeFrame(endpointAddress(from), endpointAddress(to), probe));
          checked += 1;
          if (actual !== expected) mismatches.push(`${from} -> ${to} ${probeLabel(probe)}: datapath ${actual}, oracle ${expected}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(0);
  });
});
