// The generated TS mirror of bpf/include/abi.h is fresh, and every struct's size and field layout equals the
// BTF clang wrote into the compiled objects: a layout drift between C and TS fails here, not in production.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ABI_STRUCTS, type StructLayout } from '../../src/datapath/abi.generated.js';

const ROOT = join(import.meta.dirname, '../..');
const BPF_OUT = join(ROOT, 'build/bpf');
const TC_OBJECT = join(BPF_OUT, 'moat_tc.bpf.o');

interface BtfMember {
  name: string;
  type_id: number;
  bits_offset: number;
}
interface BtfType {
  id: number;
  kind: string;
  name: string;
  size?: number;
  type_id?: number;
  nr_elems?: number;
  members?: BtfMember[];
}

function hasTool(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const toolsMissing = !hasTool('bpftool') || !hasTool('clang');
const mustRun = process.env.CI === 'true';

function loadBtf(object: string): Map<number, BtfType> {
  const json = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', object, 'format', 'raw'], { encoding: 'utf8' });
  const { types } = JSON.parse(json) as { types: BtfType[] };
  return new Map(types.map((t) => [t.id, t]));
}

/** Element size and count of a member type, through typedefs and qualifiers. */
function shape(btf: Map<number, BtfType>, typeId: number): { elementSize: number; count: number } {
  let t = btf.get(typeId);
  while (t && ['TYPEDEF', 'CONST', 'VOLATILE'].includes(t.kind)) t = btf.get(t.type_id ?? -1);
  if (!t) throw new Error(`BTF type ${typeId} not found`);
  if (t.kind === 'ARRAY') return { elementSize: shape(btf, t.type_id ?? -1).elementSize, count: t.nr_elems ?? 0 };
  if (t.kind === 'INT' && t.size !== undefined) return { elementSize: t.size, count: 1 };
  throw new Error(`unexpected BTF kind ${t.kind} for type ${typeId}`);
}

function btfLayout(btf: Map<number, BtfType>, struct: BtfType) {
  return {
    size: struct.size,
    fields: (struct.members ?? []).map((m) => {
      const { elementSize, count } = shape(btf, m.type_id);
      return { name: m.name, offset: m.bits_offset / 8, size: elementSize * count, count };
    }),
  };
}

function tsLayout(layout: StructLayout) {
  return {
    size: layout.size,
    fields: layout.fields.map((f) => ({ name: f.name, offset: f.offset, size: f.size, count: f.count })),
  };
}

describe('abi.generated.ts', () => {
  it('is what scripts/gen-abi.mjs generates from abi.h today', () => {
    expect(() => execFileSync('node', [join(ROOT, 'scripts/gen-abi.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});

describe.skipIf(toolsMissing && !mustRun)('abi layouts vs BTF (needs clang and bpftool)', () => {
  beforeAll(() => {
    execFileSync('make', ['-C', join(ROOT, 'bpf'), '../build/bpf/moat_tc.bpf.o'], { stdio: 'pipe' });
  });

  it('moat_tc.bpf.o carries every abi struct with the generated layout', () => {
    const btf = loadBtf(TC_OBJECT);
    for (const layout of ABI_STRUCTS) {
      const struct = [...btf.values()].find((t) => t.kind === 'STRUCT' && t.name === layout.name);
      expect(struct, `struct ${layout.name} in ${TC_OBJECT}`).toBeDefined();
      expect(btfLayout(btf, struct as BtfType), layout.name).toEqual(tsLayout(layout));
    }
  });

  it('every other built moat object agrees on the abi structs it uses', () => {
    const objects = readdirSync(BPF_OUT).filter((f) => /^moat_.*\.bpf\.o$/.test(f) && f !== 'moat_tc.bpf.o');
    for (const object of objects.map((f) => join(BPF_OUT, f)).filter(existsSync)) {
      const btf = loadBtf(object);
      for (const layout of ABI_STRUCTS) {
        const struct = [...btf.values()].find((t) => t.kind === 'STRUCT' && t.name === layout.name);
        if (struct) expect(btfLayout(btf, struct), `${layout.name} in ${object}`).toEqual(tsLayout(layout));
      }
    }
  });
});
