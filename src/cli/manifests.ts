// `-f FILE|DIR`: read Kubernetes YAML from disk and turn it into a ClusterState, or the list of problems.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterState } from '../policy/model.js';
import { parseManifests, type ManifestFile } from '../policy/parse-k8s.js';
import { formatManifestProblem, type ManifestError } from '../policy/errors.js';

const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/;

/** A file, or the manifest files directly inside a directory (sorted, like `kubectl apply -f DIR`). */
export function readManifestFiles(path: string): ManifestFile[] {
  const paths = statSync(path).isDirectory()
    ? readdirSync(path).filter((name) => MANIFEST_EXTENSIONS.test(name)).sort().map((name) => join(path, name))
    : [path];
  return paths.map((p) => ({ path: p, text: readFileSync(p, 'utf8') }));
}

export type LoadedState =
  | { readonly ok: true; readonly state: ClusterState; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

export function loadClusterState(path: string, nodeName: string): LoadedState {
  let files: ManifestFile[];
  try {
    files = readManifestFiles(path);
  } catch (err) {
    return { ok: false, errors: [`${path}: ${(err as Error).message}`] };
  }
  const parsed = parseManifests(files);
  if (parsed.errors.length > 0) return { ok: false, errors: parsed.errors.map(formatManifestProblem) };
  return {
    ok: true,
    state: { node: { name: nodeName, ips: [] }, ...parsed.state },
    warnings: parsed.warnings.map((w: ManifestError) => formatManifestProblem(w)),
  };
}
