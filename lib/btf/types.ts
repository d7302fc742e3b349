// The BTF type records as typed data (include/uapi/linux/btf.h,
// Documentation/bpf/btf.rst). Kind numbers are the kernel's. Every type id a
// record holds was checked at parse time to name a type of the same BTF, so
// code walking these records can index `Btf.types` without a bounds check
// (cycles are still possible and are guarded where types are followed).

export const BTF_KINDS = {
  int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8, volatile: 9, const: 10,
  restrict: 11, func: 12, func_proto: 13, var: 14, datasec: 15, float: 16, decl_tag: 17, type_tag: 18, enum64: 19,
} as const;

export type BtfKindName = keyof typeof BTF_KINDS;

/** INT encoding bits. */
export const BTF_INT_SIGNED = 1;
export const BTF_INT_CHAR = 2;
export const BTF_INT_BOOL = 4;

/** VAR and FUNC linkage. */
export const BTF_LINKAGE = { static: 0, global: 1, extern: 2 } as const;

interface Base {
  readonly id: number;
  /** '' for anonymous types. */
  readonly name: string;
  /** Byte offset of the record inside the .BTF section (for error messages). */
  readonly offset: number;
}

export interface BtfVoid extends Base { readonly kind: 'void' }
export interface BtfInt extends Base {
  readonly kind: 'int';
  readonly size: number;
  readonly bits: number;
  readonly bitOffset: number;
  readonly signed: boolean;
  readonly char: boolean;
  readonly bool: boolean;
}
/** ptr, typedef, volatile, const, restrict, type_tag: a name (maybe) and the type they qualify. */
export interface BtfRef extends Base {
  readonly kind: 'ptr' | 'typedef' | 'volatile' | 'const' | 'restrict' | 'type_tag';
  readonly type: number;
}
export interface BtfArray extends Base {
  readonly kind: 'array';
  readonly type: number;
  readonly indexType: number;
  readonly nelems: number;
}
export interface BtfMember {
  readonly name: string;
  readonly type: number;
  readonly bitOffset: number;
  /** 0 unless the member is a bitfield (struct kind_flag set and a size given). */
  readonly bitfieldSize: number;
}
export interface BtfComposite extends Base {
  readonly kind: 'struct' | 'union';
  readonly size: number;
  readonly members: readonly BtfMember[];
}
export interface BtfEnum extends Base {
  readonly kind: 'enum';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly { readonly name: string; readonly value: number }[];
}
export interface BtfEnum64 extends Base {
  readonly kind: 'enum64';
  readonly size: number;
  readonly signed: boolean;
  readonly values: readonly { readonly name: string; readonly value: bigint }[];
}
export interface BtfFwd extends Base { readonly kind: 'fwd'; readonly union: boolean }
export interface BtfFunc extends Base { readonly kind: 'func'; readonly type: number; readonly linkage: number }
export interface BtfFuncProto extends Base {
  readonly kind: 'func_proto';
  readonly returnType: number;
  /** A last parameter with type 0 and no name means `...`. */
  readonly params: readonly { readonly name: string; readonly type: number }[];
}
export interface BtfVar extends Base { readonly kind: 'var'; readonly type: number; readonly linkage: number }
export interface BtfVarSecinfo { readonly type: number; readonly offset: number; readonly size: number }
export interface BtfDatasec extends Base {
  readonly kind: 'datasec';
  readonly size: number;
  readonly vars: readonly BtfVarSecinfo[];
}
export interface BtfFloat extends Base { readonly kind: 'float'; readonly size: number }
export interface BtfDeclTag extends Base {
  readonly kind: 'decl_tag';
  readonly type: number;
  /** -1: the tag is on the type itself; else the member or parameter index. */
  readonly componentIdx: number;
}

export type BtfType =
  | BtfVoid | BtfInt | BtfRef | BtfArray | BtfComposite | BtfEnum | BtfEnum64 | BtfFwd | BtfFunc | BtfFuncProto
  | BtfVar | BtfDatasec | BtfFloat | BtfDeclTag;

/** Every type id a record refers to (for the parse-time range check). */
export function referencedIds(t: BtfType): number[] {
  switch (t.kind) {
    case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag':
    case 'func': case 'var': case 'decl_tag':
      return [t.type];
    case 'array': return [t.type, t.indexType];
    case 'struct': case 'union': return t.members.map((m) => m.type);
    case 'func_proto': return [t.returnType, ...t.params.map((p) => p.type)];
    case 'datasec': return t.vars.map((v) => v.type);
    default: return [];
  }
}
