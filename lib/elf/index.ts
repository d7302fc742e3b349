// The ELF loader's public surface. This module only re-exports.

export { loadObject } from './load.js';
export type { LoadObjectOptions } from './load.js';
export { BpfObject } from './object.js';
export type { GlobalVariable, ObjectProgram, ObjectTypes, SourceLine } from './object.js';
export { programKind, contextFor } from './kinds.js';
export { DEFAULT_KERNEL_VERSION, parseKconfigText } from './kconfig.js';
export type { KconfigValue } from './kconfig.js';
export type { ObjectExtern } from './externs.js';
export { isDataSectionName } from './data.js';
export type { ProgramKind } from './kinds.js';
export { readElfSections } from './sections.js';
export { programBytes } from './program-bytes.js';
export type { ElfSection } from './reader.js';
