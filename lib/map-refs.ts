// Load-time resolution of the lddw forms that name maps (Linux's
// BPF_PSEUDO_MAP_*): a Vm turns each into a plain 64-bit constant before the
// program is validated, so the engines only ever see plain lddw.
//   src 1 map_fd N          -> the pointer of the Vm's map with fd N
//   src 2 map_value N, off  -> map.valueAddress(off) of that map
//   src 5 map_idx I         -> the pointer of the I-th map given to load()
//   src 6 map_idx_value I, off -> valueAddress(off) of that map
// map_fd and map_idx take no offset: their second imm must be 0, as in Linux.
// src 3 (BTF variable) is left alone: the validator rejects it.
//
// Errors are ValidationErrors at the lddw's pc. So that the reported error
// does not depend on the order of the passes, the first resolution error is
// returned, not thrown: the Vm validates the resolved slots and reports
// whichever error has the lower pc (validate.ts reports its first failing pc).
//
// What it does not do: validate anything else. The walk steps over lddw's
// second slots as the validator does; a malformed pair is left for it.

import { formatInstruction } from './disasm.js';
import { EbpfError, ValidationError } from './errors.js';
import { LDDW_FORMS, LDDW_OPCODE, type Slot } from './isa.js';
import type { BpfMap } from './maps/index.js';

export interface MapReferences {
  /** The map with this fd (lddw src 1 and 2). */
  byFd(fd: number): BpfMap | undefined;
  /** The maps given to load(), for lddw src 5 and 6. */
  readonly byIndex: readonly BpfMap[];
}

export interface ResolvedSlots {
  readonly slots: readonly Slot[];
  /** The first reference that could not be resolved (its lddw became `lddw rX, 0`). */
  readonly error: ValidationError | undefined;
}

const MAP_FD = LDDW_FORMS.indexOf('map_fd');
const MAP_VALUE = LDDW_FORMS.indexOf('map_value');
const MAP_IDX = LDDW_FORMS.indexOf('map_idx');
const MAP_IDX_VALUE = LDDW_FORMS.indexOf('map_idx_value');

/** Whether any slot is an lddw naming a map (a quick scan, so programs without maps are not copied). */
export function hasMapReferences(slots: readonly Slot[]): boolean {
  return slots.some((s) => s.opcode === LDDW_OPCODE && isMapForm(s.src));
}

function isMapForm(src: number): boolean {
  return src === MAP_FD || src === MAP_VALUE || src === MAP_IDX || src === MAP_IDX_VALUE;
}

/** The slots with every map reference replaced by its value. */
export function resolveMapReferences(slots: readonly Slot[], refs: MapReferences): ResolvedSlots {
  const out = slots.slice();
  let error: ValidationError | undefined;
  for (let pc = 0; pc < slots.length; pc++) {
    const slot = slots[pc]!;
    if (slot.opcode !== LDDW_OPCODE) continue;
    const second = slots[pc + 1];
    if (second === undefined) break;
    if (isMapForm(slot.src)) {
      let value = resolve(slot, second.imm, refs);
      if (typeof value !== 'number') {
        error ??= new ValidationError(value.code, value.message, pc, formatInstruction(slot, pc, second.imm));
        value = 0;
      }
      // Every value is a 32-bit address: the high half is 0.
      out[pc] = { ...slot, src: 0, imm: value | 0 };
      out[pc + 1] = { ...second, imm: 0 };
    }
    pc++;
  }
  return { slots: out, error };
}

interface Failure {
  readonly code: string;
  readonly message: string;
}

/** The 32-bit value of one reference, or why it has none. */
function resolve(slot: Slot, imm2: number, refs: MapReferences): number | Failure {
  // "unresolved lddw src N (form)", the validator's words for a reference nothing resolves.
  const form = `unresolved lddw src ${slot.src} (${LDDW_FORMS[slot.src]!})`;
  const byFd = slot.src === MAP_FD || slot.src === MAP_VALUE;
  const map = byFd ? refs.byFd(slot.imm) : slot.imm >= 0 ? refs.byIndex[slot.imm] : undefined;
  if (map === undefined) {
    if (byFd) return { code: 'UNKNOWN_MAP_FD', message: `${form}: no map has fd ${slot.imm}` };
    return { code: 'UNKNOWN_MAP_INDEX', message: `${form}: no map at index ${slot.imm} (load() was given ${refs.byIndex.length})` };
  }
  if (slot.src === MAP_FD || slot.src === MAP_IDX) {
    if (imm2 !== 0) return { code: 'BAD_LDDW_SECOND', message: `${form}: the second slot's imm must be 0 (is ${imm2})` };
    return map.pointer;
  }
  try {
    return map.valueAddress(imm2);
  } catch (e) {
    // A map without a value address, or an offset outside the value (MapError).
    if (!(e instanceof EbpfError)) throw e;
    return { code: 'BAD_MAP_VALUE', message: `${form}: ${e.message}` };
  }
}
