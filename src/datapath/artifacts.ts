// Where the build puts what the runtime loads (BPF objects, the addon), found from this module's location so
// that src/ (tests) and dist/src/ (the CLI) resolve the same files.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory above this module holding package.json. */
export function packageRoot(): string {
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 8; depth += 1) {
    if (existsSync(path.join(directory, 'package.json'))) return directory;
    directory = path.dirname(directory);
  }
  throw new Error(`moat: no package.json above ${fileURLToPath(import.meta.url)}; cannot locate build artifacts`);
}

/** A compiled BPF object, e.g. bpfObjectPath('moat_tc') → build/bpf/moat_tc.bpf.o. */
export function bpfObjectPath(name: string): string {
  const objectPath = path.join(packageRoot(), 'build', 'bpf', `${name}.bpf.o`);
  if (!existsSync(objectPath)) {
    throw new Error(`moat: BPF object ${objectPath} is missing; build it with \`npm run build:bpf\` or \`bash scripts/setup.sh\``);
  }
  return objectPath;
}
