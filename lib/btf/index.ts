// BTF: the type information clang emits in .BTF and .BTF.ext, and the map
// definitions libbpf reads from it. This module only re-exports.

export { parseBtf, BTF_MAGIC } from './parse.js';
export { Btf } from './btf.js';
export type { Datasec, DatasecVar } from './btf.js';
export { BtfError, BTF_SECTION, BTF_EXT_SECTION } from './error.js';
export { BTF_KINDS, BTF_INT_SIGNED, BTF_INT_CHAR, BTF_INT_BOOL, BTF_LINKAGE } from './types.js';
export type {
  BtfKindName, BtfType, BtfVoid, BtfInt, BtfRef, BtfArray, BtfMember, BtfComposite, BtfEnum, BtfEnum64, BtfFwd,
  BtfFunc, BtfFuncProto, BtfVar, BtfVarSecinfo, BtfDatasec, BtfFloat, BtfDeclTag,
} from './types.js';
export { btfMaps } from './maps.js';
export type { BtfMapDef } from './maps.js';
export { decodeValue } from './decode.js';
export { parseBtfExt, lineAt, coreReloKindName, CORE_RELO_KINDS } from './ext.js';
export type { BtfExt, FuncInfo, LineInfo, CoreRelo } from './ext.js';
export { encodeValue } from './encode.js';
