#!/usr/bin/env node
// Generates src/datapath/abi.generated.ts from bpf/include/abi.h: constants, enums, and for each struct its
// layout plus typed encode/decode functions. abi.h is written in the restricted form its header comment
// describes (fixed-width fields, explicit enum values, integer #defines), which is all this parser accepts:
// anything else is an error naming the line, never a silently wrong layout.
//   node scripts/gen-abi.mjs           write the file
//   node scripts/gen-abi.mjs --check   exit 1 if the file on disk differs from what would be written
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const HEADER = join(ROOT, 'bpf/include/abi.h');
const OUTPUT = join(ROOT, 'src/datapath/abi.generated.ts');

const SCALARS = {
  __u8: { size: 1, type: 'u8' },
  __u16: { size: 2, type: 'u16' },
  __u32: { size: 4, type: 'u32' },
  __s32: { size: 4, type: 's32' },
  __u64: { size: 8, type: 'u64' },
};

class AbiError extends Error {
  constructor(lineNo, message) {
    super(`${relative(ROOT, HEADER)}:${lineNo}: ${message}`);
  }
}

const camel = (name) => name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
const pascal = (name) => camel(name).replace(/^./, (c) => c.toUpperCase());
const isPad = (name) => /^pad\d*$/.test(name);

function parseInteger(text, constants, lineNo) {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) return Number(text);
  if (constants.has(text)) return constants.get(text);
  throw new AbiError(lineNo, `expected an integer or a known constant, got "${text}"`);
}

/** Lines with their numbers, split into code and the comment text on that line. */
function splitLines(source) {
  let inComment = false;
  return source.split('\n').map((raw, i) => {
    let code = '';
    let comment = '';
    let rest = raw;
    while (rest !== '') {
      if (inComment) {
        const end = rest.indexOf('*/');
        comment += end < 0 ? rest : rest.slice(0, end);
        rest = end < 0 ? '' : rest.slice(end + 2);
        inComment = end < 0;
        continue;
      }
      const block = rest.indexOf('/*');
      const line = rest.indexOf('//');
      if (line >= 0 && (block < 0 || line < block)) {
        code += rest.slice(0, line);
        comment += rest.slice(line + 2);
        rest = '';
      } else if (block >= 0) {
        code += rest.slice(0, block);
        rest = rest.slice(block + 2);
        inComment = true;
      } else {
        code += rest;
        rest = '';
      }
    }
    return { lineNo: i + 1, code: code.trim(), comment: comment.trim() };
  });
}

export function parseAbi(source) {
  const constants = new Map();
  const enums = [];
  const structs = [];
  const sizeAsserts = new Map();
  const lines = splitLines(source);
  let open = null; // the enum or struct being read

  for (const { lineNo, code, comment } of lines) {
    if (code === '') continue;
    if (open) {
      if (code === '};') {
        (open.kind === 'enum' ? enums : structs).push(open);
        open = null;
        continue;
      }
      if (open.kind === 'enum') {
        const m = /^([A-Z][A-Z0-9_]*)\s*=\s*(-?\w+),?$/.exec(code);
        if (!m) throw new AbiError(lineNo, `enum ${open.name}: members need explicit values, got "${code}"`);
        const value = parseInteger(m[2], constants, lineNo);
        open.members.push({ name: m[1], value });
        constants.set(m[1], value);
      } else {
        const m = /^(__[us]\d+)\s+([a-z_][a-z0-9_]*)(?:\[(\w+)\])?;$/.exec(code);
        if (!m) throw new AbiError(lineNo, `struct ${open.name}: unsupported field "${code}"`);
        const scalar = SCALARS[m[1]];
        if (!scalar) throw new AbiError(lineNo, `struct ${open.name}: unsupported type ${m[1]}`);
        const count = m[3] === undefined ? 1 : parseInteger(m[3], constants, lineNo);
        const bigEndian = m[2].endsWith('_be') || /network byte order/i.test(comment);
        open.fields.push({ name: m[2], scalar, count, bigEndian, lineNo });
      }
      continue;
    }
    let m;
    if ((m = /^#define\s+(MOAT_\w+)\s+(.+)$/.exec(code))) {
      constants.set(m[1], parseInteger(m[2], constants, lineNo));
    } else if ((m = /^enum\s+(\w+)\s*\{$/.exec(code))) {
      open = { kind: 'enum', name: m[1], members: [] };
    } else if ((m = /^struct\s+(\w+)\s*\{$/.exec(code))) {
      open = { kind: 'struct', name: m[1], fields: [], lineNo };
    } else if ((m = /^_Static_assert\(sizeof\(struct\s+(\w+)\)\s*==\s*(\d+),/.exec(code))) {
      sizeAsserts.set(m[1], Number(m[2]));
    }
  }
  if (open) throw new AbiError(lines.length, `${open.kind} ${open.name} is not closed`);

  const defines = [...constants].filter(([name]) => !enums.some((e) => e.members.some((mem) => mem.name === name)));
  return { defines, enums, structs: structs.map((s) => layoutStruct(s, sizeAsserts)) };
}

/** Natural C alignment, as clang lays out these structs for both BPF and x86-64/arm64. */
function layoutStruct(struct, sizeAsserts) {
  let offset = 0;
  let align = 1;
  const fields = struct.fields.map((f) => {
    const a = f.scalar.size;
    offset = Math.ceil(offset / a) * a;
    const field = { ...f, offset, size: a * f.count };
    offset += field.size;
    align = Math.max(align, a);
    return field;
  });
  const size = Math.ceil(offset / align) * align;
  const asserted = sizeAsserts.get(struct.name);
  if (asserted === undefined) throw new AbiError(struct.lineNo, `struct ${struct.name} has no _Static_assert on its size`);
  if (asserted !== size) throw new AbiError(struct.lineNo, `struct ${struct.name}: computed size ${size}, asserted ${asserted}`);
  return { name: struct.name, size, fields };
}

function enumPrefix(members) {
  const names = members.map((m) => m.name);
  let prefix = names[0] ?? '';
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.slice(0, prefix.lastIndexOf('_') + 1);
}

function tsType(field) {
  if (field.count > 1) return field.scalar.type === 'u8' ? 'Uint8Array' : 'number[]';
  return field.scalar.type === 'u64' ? 'bigint' : 'number';
}

const ACCESSOR = { u8: 'UInt8', u16: 'UInt16', u32: 'UInt32', s32: 'Int32', u64: 'BigUInt64' };

function accessor(field) {
  const base = ACCESSOR[field.scalar.type];
  if (field.scalar.size === 1) return base;
  return base + (field.bigEndian ? 'BE' : 'LE');
}

function emitEncode(s, type) {
  const out = [`export function encode${type}(v: ${type}): Buffer {`, `  const b = Buffer.alloc(${s.size});`];
  for (const f of s.fields) {
    if (isPad(f.name)) continue;
    const prop = camel(f.name);
    const where = `'${s.name}.${f.name}'`;
    if (f.count > 1 && f.scalar.type === 'u8') {
      out.push(`  putBytes(b, ${f.offset}, ${f.count}, v.${prop}, ${where});`);
    } else if (f.count > 1) {
      out.push(`  checkCount(v.${prop}.length, ${f.count}, ${where});`);
      out.push(`  v.${prop}.forEach((x, i) => b.write${accessor(f)}(checkInt(x, '${f.scalar.type}', ${where}), ${f.offset} + i * ${f.scalar.size}));`);
    } else if (f.scalar.type === 'u64') {
      out.push(`  b.write${accessor(f)}(checkU64(v.${prop}, ${where}), ${f.offset});`);
    } else {
      out.push(`  b.write${accessor(f)}(checkInt(v.${prop}, '${f.scalar.type}', ${where}), ${f.offset});`);
    }
  }
  out.push('  return b;', '}');
  return out.join('\n');
}

function emitDecode(s, type) {
  const out = [
    `export function decode${type}(b: Buffer): ${type} {`,
    `  checkSize(b, ${s.size}, '${s.name}');`,
    '  return {',
  ];
  for (const f of s.fields) {
    if (isPad(f.name)) continue;
    const prop = camel(f.name);
    if (f.count > 1 && f.scalar.type === 'u8') {
      out.push(`    ${prop}: Buffer.from(b.subarray(${f.offset}, ${f.offset + f.count})),`);
    } else if (f.count > 1) {
      out.push(`    ${prop}: Array.from({ length: ${f.count} }, (_, i) => b.read${accessor(f)}(${f.offset} + i * ${f.scalar.size})),`);
    } else {
      out.push(`    ${prop}: b.read${accessor(f)}(${f.offset}),`);
    }
  }
  out.push('  };', '}');
  return out.join('\n');
}

function emitStruct(s) {
  const type = pascal(s.name);
  const props = s.fields.filter((f) => !isPad(f.name)).map((f) => `  ${camel(f.name)}: ${tsType(f)};`);
  const fields = s.fields.map(
    (f) =>
      `    { name: '${f.name}', offset: ${f.offset}, size: ${f.size}, type: '${f.scalar.type}', count: ${f.count}, bigEndian: ${f.bigEndian} },`,
  );
  return [
    `export interface ${type} {`,
    ...props,
    '}',
    '',
    `export const ${type}Layout: StructLayout = {`,
    `  name: '${s.name}',`,
    `  size: ${s.size},`,
    '  fields: [',
    ...fields,
    '  ],',
    '};',
    '',
    emitEncode(s, type),
    '',
    emitDecode(s, type),
  ].join('\n');
}

function emitEnum(e) {
  const type = pascal(e.name);
  const prefix = enumPrefix(e.members);
  const members = e.members.filter((m) => !m.name.slice(prefix.length).startsWith('_'));
  const extra = e.members.filter((m) => m.name.slice(prefix.length).startsWith('_'));
  return [
    `export const ${type} = {`,
    ...members.map((m) => `  ${m.name.slice(prefix.length)}: ${m.value},`),
    '} as const;',
    `export type ${type} = (typeof ${type})[keyof typeof ${type}];`,
    `export const ${type}Name: Readonly<Record<number, keyof typeof ${type}>> = {`,
    ...members.map((m) => `  ${m.value}: '${m.name.slice(prefix.length)}',`),
    '};',
    ...extra.map((m) => `export const ${m.name} = ${m.value};`),
  ].join('\n');
}

const RUNTIME = `export type FieldType = 'u8' | 'u16' | 'u32' | 's32' | 'u64';

export interface FieldLayout {
  readonly name: string;
  readonly offset: number;
  /** Total bytes (element size × count). */
  readonly size: number;
  readonly type: FieldType;
  readonly count: number;
  /** Stored in network byte order: encode/decode take and give plain numbers. */
  readonly bigEndian: boolean;
}

export interface StructLayout {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly FieldLayout[];
}

// BPF maps hold host-endian values; moat supports little-endian hosts (x86-64, arm64) only.
const INT_RANGE: Record<Exclude<FieldType, 'u64'>, readonly [number, number]> = {
  u8: [0, 0xff],
  u16: [0, 0xffff],
  u32: [0, 0xffffffff],
  s32: [-0x80000000, 0x7fffffff],
};

function checkInt(value: number, type: Exclude<FieldType, 'u64'>, field: string): number {
  const [min, max] = INT_RANGE[type];
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(\`\${field}: \${value} is not a \${type}\`);
  }
  return value;
}

function checkU64(value: bigint, field: string): bigint {
  if (value < 0n || value > 0xffffffffffffffffn) throw new RangeError(\`\${field}: \${value} is not a u64\`);
  return value;
}

function checkCount(length: number, max: number, field: string): void {
  if (length > max) throw new RangeError(\`\${field}: \${length} elements, at most \${max} fit\`);
}

function putBytes(b: Buffer, offset: number, max: number, bytes: Uint8Array, field: string): void {
  checkCount(bytes.length, max, field);
  b.set(bytes, offset);
}

function checkSize(b: Buffer, size: number, struct: string): void {
  if (b.length !== size) throw new RangeError(\`\${struct}: expected \${size} bytes, got \${b.length}\`);
}`;

export function generate(source) {
  const abi = parseAbi(source);
  const parts = [
    '// Generated by scripts/gen-abi.mjs from bpf/include/abi.h. Do not edit: change abi.h and run `npm run build:abi`.',
    '',
    ...abi.defines.map(([name, value]) => `export const ${name} = ${value};`),
    '',
    ...abi.enums.map(emitEnum).flatMap((e) => [e, '']),
    RUNTIME,
    '',
    ...abi.structs.map(emitStruct).flatMap((s) => [s, '']),
    '/** Every struct of abi.h, by its C name (the ABI test compares each with the objects\' BTF). */',
    'export const ABI_STRUCTS: readonly StructLayout[] = [',
    ...abi.structs.map((s) => `  ${pascal(s.name)}Layout,`),
    '];',
    '',
  ];
  return parts.join('\n');
}

function main() {
  const wanted = generate(readFileSync(HEADER, 'utf8'));
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(OUTPUT, 'utf8');
    } catch {
      // a missing file is stale too
    }
    if (current !== wanted) {
      console.error(`${relative(ROOT, OUTPUT)} is stale: run \`npm run build:abi\``);
      process.exit(1);
    }
    return;
  }
  writeFileSync(OUTPUT, wanted);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
