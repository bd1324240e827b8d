// Problems found while reading manifests, each pointing at one field of one object of one file.

export interface ManifestError {
  readonly file: string;
  /** 'Kind namespace/name' ('Kind name' for cluster-scoped kinds); '' when no object could be read. */
  readonly object: string;
  /** API-server style path, e.g. 'spec.ingress[0].from[1].ipBlock.except[0]'; '' for the whole object/file. */
  readonly field: string;
  readonly message: string;
}

/** Not fatal: ignored kinds, fields moat cannot represent. */
export type ManifestWarning = ManifestError;

export function formatManifestProblem(problem: ManifestError): string {
  const where = [problem.file, problem.object, problem.field].filter((part) => part !== '').join(': ');
  return `${where}: ${problem.message}`;
}
