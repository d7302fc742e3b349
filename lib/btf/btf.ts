// A parsed BTF: its types by id and the questions the loader asks of them
// (what a typedef stands for, how big a type is, where a section's variables
// lie). Type ids inside records were range-checked at parse time; chains of
// typedefs/modifiers and arrays are followed at most `types.length` steps, so
// a malformed cycle is a BtfError, never a hang.

import type { SectionReader } from './error.js';
import type { StringTable } from './parse.js';
import type { BtfDatasec, BtfType } from './types.js';

/** A variable of a DATASEC, with its name. */
export interface DatasecVar { name: string; type: number; offset: number; size: number }
export interface Datasec { name: string; id: number; size: number; vars: DatasecVar[] }

/** Kinds that only qualify or rename another type. */
const TRANSPARENT = new Set(['typedef', 'const', 'volatile', 'restrict', 'type_tag']);

/** Sizes past this are malformed (the kernel's BTF sizes are u32). */
const MAX_SIZE = 0xffffffff;

export class Btf {
  /** Index = type id; types[0] is void. */
  readonly types: readonly BtfType[];
  /** @internal */
  readonly strings: StringTable;
  /** @internal the .BTF reader, for errors that point into the section */
  readonly reader: SectionReader;

  constructor(types: readonly BtfType[], strings: StringTable, reader: SectionReader) {
    this.types = types;
    this.strings = strings;
    this.reader = reader;
  }

  /** The type with this id; BtfError when there is none. */
  typeById(id: number): BtfType {
    const t = Number.isInteger(id) && id >= 0 ? this.types[id] : undefined;
    if (t === undefined) this.reader.fail(`no type ${id} (there are ${this.types.length})`, 0);
    return t;
  }

  /** Results of resolve and sizeOf, so that long chains are walked once (bad input could ask often). */
  private readonly resolvedIds = new Map<number, number>();
  private readonly sizes = new Map<number, number>();

  /** The id reached from `id` by skipping typedef, const, volatile, restrict and type_tag. */
  resolve(id: number): number {
    const known = this.resolvedIds.get(id);
    if (known !== undefined) return known;
    let t = this.typeById(id);
    for (let steps = 0; TRANSPARENT.has(t.kind); steps++) {
      if (steps >= this.types.length) this.reader.fail(`type ${id}: typedef/modifier cycle`, t.offset);
      t = this.types[(t as { type: number }).type]!;
    }
    this.resolvedIds.set(id, t.id);
    return t.id;
  }

  /** The type `resolve(id)` names. */
  resolved(id: number): BtfType {
    return this.types[this.resolve(id)]!;
  }

  /** The name of type `id` ('' when anonymous). */
  nameOf(id: number): string {
    return this.typeById(id).name;
  }

  /** Size in bytes of a value of type `id`; BtfError for types without one (void, func, fwd) or sizes past 2^32. */
  sizeOf(id: number): number {
    const known = this.sizes.get(id);
    if (known !== undefined) return known;
    const size = this.computeSize(id);
    this.sizes.set(id, size);
    return size;
  }

  private computeSize(id: number): number {
    let mult = 1;
    let t = this.typeById(id);
    for (let steps = 0; ; steps++) {
      if (steps > this.types.length) this.reader.fail(`type ${id}: type cycle while computing its size`, t.offset);
      switch (t.kind) {
        case 'int': case 'struct': case 'union': case 'enum': case 'enum64': case 'float': case 'datasec':
          return this.checkSize(id, mult * t.size, t.offset);
        case 'ptr':
          return this.checkSize(id, mult * 8, t.offset);
        case 'array':
          mult = this.checkSize(id, mult * t.nelems, t.offset);
          t = this.types[t.type]!;
          break;
        case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag': case 'var':
          t = this.types[t.type]!;
          break;
        default:
          this.reader.fail(`type ${id}: a ${t.kind} has no size`, t.offset);
      }
    }
  }

  private checkSize(id: number, size: number, at: number): number {
    if (size > MAX_SIZE) this.reader.fail(`type ${id}: size ${size} exceeds 2^32 - 1`, at);
    return size;
  }

  /** The first type named `name` (of kind `kind` when given), or undefined. */
  find(name: string, kind?: BtfType['kind']): BtfType | undefined {
    return this.types.find((t) => t.name === name && (kind === undefined || t.kind === kind));
  }

  /**
   * DATASEC `name` (".maps", ".rodata", ".bss", ...) with its variables named, or undefined.
   * Clang leaves variable offsets 0 (libbpf takes them from the ELF symbol table): `symbols`
   * maps a variable's name to its symbol's offset in the section and wins over the BTF offset.
   */
  datasec(name: string, symbols?: ReadonlyMap<string, number>): Datasec | undefined {
    const sec = this.find(name, 'datasec') as BtfDatasec | undefined;
    if (sec === undefined) return undefined;
    const vars = sec.vars.map((v, i): DatasecVar => {
      const t = this.types[v.type]!;
      if (t.kind !== 'var' && t.kind !== 'func') {
        this.reader.fail(`datasec ${name}: entry ${i} is a ${t.kind}, not a var`, sec.offset + 12 + i * 12);
      }
      return { name: t.name, type: v.type, offset: symbols?.get(t.name) ?? v.offset, size: v.size };
    });
    return { name, id: sec.id, size: sec.size, vars };
  }

  /** A C-like spelling of type `id` for messages and listings ("struct counters", "__u32 *", "char[16]"). */
  typeName(id: number): string {
    // A budget of visited types bounds the work (a prototype can list 65,535 parameters, each the prototype again).
    return this.spell(id, { left: 64 });
  }

  private spell(id: number, budget: { left: number }): string {
    const t = this.typeById(id);
    if (--budget.left < 0) return '...';
    const inner = (ref: number): string => this.spell(ref, budget);
    switch (t.kind) {
      case 'void': return 'void';
      case 'ptr': return `${inner(t.type)} *`;
      case 'array': return `${inner(t.type)}[${t.nelems}]`;
      case 'const': case 'volatile': case 'restrict': return `${t.kind} ${inner(t.type)}`;
      case 'type_tag': return `${inner(t.type)} __tag(${t.name})`;
      case 'struct': case 'union': case 'enum': return t.name === '' ? `${t.kind} {...}` : `${t.kind} ${t.name}`;
      case 'enum64': return t.name === '' ? 'enum {...}' : `enum ${t.name}`;
      case 'fwd': return `${t.union ? 'union' : 'struct'} ${t.name}`;
      case 'func_proto': {
        const params: string[] = [];
        for (const p of t.params) {
          if (budget.left <= 0) { params.push('...'); break; }
          params.push(p.type === 0 ? '...' : inner(p.type));
        }
        return `${inner(t.returnType)} (${params.join(', ')})`;
      }
      default: return t.name === '' ? `(${t.kind})` : t.name;
    }
  }
}
