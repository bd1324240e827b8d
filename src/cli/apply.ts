// `moat apply -f FILE|DIR`: make this node enforce exactly the state in the files.
import type { Config } from '../config.js';
import { compile } from '../policy/compile.js';
import { encodeConfig } from '../datapath/codec.js';
import { discoverPodInterfaces } from '../datapath/discovery.js';
import { KernelDatapath } from '../datapath/kernel.js';
import { TABLES } from '../datapath/datapath.js';
import { planDatapath } from '../reconcile/plan.js';
import { reconcile } from '../reconcile/reconcile.js';
import { datapathSettings } from '../reconcile/settings.js';
import { loadClusterState } from './manifests.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { Output } from './output.js';

export function apply(file: string, config: Config, out: Output): ExitCode {
  const loaded = loadClusterState(file, config.nodeName);
  if (!loaded.ok) {
    out.errors([...loaded.errors, 'nothing was applied']);
    return EXIT.failed;
  }
  out.warnings(loaded.warnings);
  const desired = compile(loaded.state, config.waypointSelectors ? { waypointSelectors: config.waypointSelectors } : {});
  const plan = planDatapath(desired, discoverPodInterfaces(), { unknownEndpoint: config.unknownEndpoint });

  const datapath = KernelDatapath.open({ bpffsRoot: config.bpffsRoot, mapSizes: config.mapSizes });
  try {
    const overfull = TABLES.filter((t) => plan.tables[t].length > datapath.capacity(t));
    if (overfull.length > 0) {
      out.errors([
        ...overfull.map((t) => `map ${t}: ${plan.tables[t].length} entries needed, capacity ${datapath.capacity(t)} (raise mapSizes)`),
        'nothing was applied',
      ]);
      return EXIT.failed;
    }
    datapath.writeConfig(encodeConfig(datapathSettings(config)));
    const result = reconcile(datapath, plan);
    const attachments = new Map(datapath.attachments().map((a) => [a.ifindex, a]));
    const endpoints = plan.bindings.map(({ endpoint, iface }) => ({
      pod: `${endpoint.namespace}/${endpoint.name}`,
      device: iface.ifname,
      mode: attachments.get(iface.ifindex)?.mode ?? 'none',
      isolated: { ingress: endpoint.isolateIngress, egress: endpoint.isolateEgress },
      audit: endpoint.audit,
    }));
    const problems = desired.problems.map((p) => `${p.object}: ${p.field}: ${p.message}`);
    out.result({ endpoints, notOnThisNode: plan.unbound.map((e) => `${e.namespace}/${e.name}`), changes: result.changes, problems }, () =>
      [
        `enforcing ${endpoints.length} endpoint(s)`,
        ...endpoints.map((e) => `  ${e.pod.padEnd(30)} ${e.device} (${e.mode})${e.audit ? ' audit' : ''}`),
        ...(plan.unbound.length ? [`not on this node: ${plan.unbound.map((e) => `${e.namespace}/${e.name}`).join(', ')}`] : []),
        ...problems.map((p) => `rejected: ${p} (fails closed)`),
      ].join('\n'),
    );
    return problems.length > 0 ? EXIT.applied_with_rejections : EXIT.ok;
  } finally {
    datapath.close();
  }
}
