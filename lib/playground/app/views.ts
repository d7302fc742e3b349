// How the page shows what the session returns: registers, hex dumps, maps,
// the disassembly listing and a run's outcome. Each function fills one
// element from plain data and keeps no state.

import type { MapsReport } from '../../cli/report-maps.js';
import { clear, h } from './dom.js';
import { formatU64, hexDump } from './hex.js';
import type { StopSnapshot } from './recording.js';
import { formatValue, type ErrorView, type ListingLine, type RunOutcome } from './session.js';

/** Longest dump shown, in bytes: a packet frame is at most a few KiB, but pasted input could be anything. */
const DUMP_LIMIT = 8192;

export function showHexDump(el: HTMLElement, bytes: Uint8Array, before?: Uint8Array, perRow = 16): void {
  if (bytes.length === 0) {
    clear(el, h('span', { class: 'note' }, 'no bytes'));
    return;
  }
  const rows = hexDump(bytes.subarray(0, DUMP_LIMIT), before, perRow);
  const lines = rows.map((row) => h('div', { class: 'dump-row' },
    h('span', { class: 'offset' }, row.offset.toString(16).padStart(4, '0')),
    ...row.bytes.map((b) => h('span', { class: b.changed ? 'byte changed' : 'byte' }, b.value.toString(16).padStart(2, '0'))),
    h('span', { class: 'ascii' }, row.text)));
  const more = bytes.length > DUMP_LIMIT ? h('div', { class: 'note' }, `… ${bytes.length - DUMP_LIMIT} more bytes not shown`) : undefined;
  clear(el, ...lines, more);
}

export function showRegisters(table: HTMLElement, stop: StopSnapshot | undefined, changed: ReadonlySet<number>): void {
  const head = h('tr', {}, h('th', {}, 'reg'), h('th', {}, 'hex'), h('th', {}, 'decimal'));
  if (stop === undefined) {
    clear(table, head, h('tr', {}, h('td', { colspan: '3', class: 'note' }, 'Registers show while stepping (Debug).')));
    return;
  }
  const rows = stop.registers.map((value, n) => {
    const { hex, dec } = formatU64(value);
    return h('tr', { class: changed.has(n) ? 'changed' : '', 'data-reg': `r${n}` },
      h('th', {}, `r${n}`), h('td', {}, hex), h('td', {}, dec));
  });
  clear(table, head, ...rows);
}

export function showOutcome(result: HTMLElement, errorBox: HTMLElement, printk: HTMLElement, outcome: RunOutcome, label: string): void {
  printk.hidden = outcome.printk.length === 0;
  clear(printk, h('span', { class: 'note' }, 'bpf_printk:'), ...outcome.printk.map((line) => h('div', { class: 'printk-line' }, line)));
  if (outcome.r0 !== undefined) {
    const { hex, dec } = formatU64(outcome.r0);
    result.dataset['r0'] = outcome.r0.toString();
    clear(result,
      h('span', { class: 'r0' }, `r0 = ${dec}`), ' ', h('span', { class: 'note' }, `(${hex})`),
      outcome.verdict === undefined ? undefined : h('span', { class: 'verdict' }, outcome.verdict),
      h('span', { class: 'engine' }, label));
  } else {
    delete result.dataset['r0'];
    clear(result, h('span', { class: 'failed' }, outcome.error === undefined ? 'no result' : 'failed'), h('span', { class: 'engine' }, label));
  }
  showError(errorBox, outcome.error);
}

export function showError(box: HTMLElement, error: ErrorView | undefined): void {
  if (error === undefined) {
    box.hidden = true;
    delete box.dataset['code'];
    clear(box);
    return;
  }
  box.hidden = false;
  box.dataset['code'] = error.code;
  clear(box, h('strong', {}, error.internal ? 'Internal error (a bug, please report it): ' : `${error.name} (${error.code}): `), error.message);
}

/**
 * A key or value as text. Bytes without BTF types (maps made for assembly)
 * that have an integer's size are shown as that little-endian integer too,
 * since counters are what such maps mostly hold.
 */
function valueText(v: unknown): string {
  if (v instanceof Uint8Array && [1, 2, 4, 8].includes(v.length)) {
    let n = 0n;
    for (let i = v.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(v[i]!);
    return `${n}  (${formatValue(v)})`;
  }
  return formatValue(v);
}

export function showMaps(el: HTMLElement, report: MapsReport): void {
  const parts: HTMLElement[] = [];
  for (const map of report.maps) {
    const rows = map.entries.map((e) => h('tr', {}, h('td', {}, valueText(e.key)), h('td', {}, valueText(e.value))));
    const notes: string[] = [];
    if (map.note !== undefined) notes.push(map.note);
    if (map.zeroSlots > 0) notes.push(`${map.zeroSlots} all-zero slot${map.zeroSlots === 1 ? '' : 's'} not shown`);
    if (map.more > 0) notes.push(`${map.more} more entries not shown`);
    if (rows.length === 0 && notes.length === 0) notes.push('empty');
    parts.push(h('div', { class: 'map', 'data-map': map.name },
      h('h3', {}, map.name, ' ', h('span', { class: 'note' }, map.type)),
      rows.length === 0 ? undefined : h('table', { class: 'entries' }, h('tr', {}, h('th', {}, 'key'), h('th', {}, 'value')), ...rows),
      notes.length === 0 ? undefined : h('p', { class: 'note' }, notes.join('; '))));
  }
  for (const g of report.globals) {
    const rows = Object.entries(g.variables).map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {}, valueText(v))));
    parts.push(h('div', { class: 'map', 'data-map': g.name },
      h('h3', {}, g.name, ' ', h('span', { class: 'note' }, 'global variables')),
      h('table', { class: 'entries' }, h('tr', {}, h('th', {}, 'variable'), h('th', {}, 'value')), ...rows)));
  }
  if (parts.length === 0) clear(el, h('span', { class: 'note' }, 'No maps.'));
  else clear(el, ...parts);
}

/** The listing of one program; `onToggle(pc)` when a line is clicked (breakpoints). */
export function showListing(el: HTMLElement, program: string, lines: readonly ListingLine[], breakpoints: ReadonlySet<string>,
  onToggle: (pc: number) => void): void {
  const items: HTMLElement[] = [];
  for (const line of lines) {
    if (line.source !== undefined) items.push(h('li', { class: 'source' }, line.source));
    const bp = breakpoints.has(`${program}:${line.pc}`);
    const li = h('li', { class: bp ? 'insn breakpoint' : 'insn', 'data-pc': String(line.pc), title: 'click: toggle breakpoint' },
      h('span', { class: 'pc' }, String(line.pc)), h('span', { class: 'text' }, line.text));
    li.addEventListener('click', () => onToggle(line.pc));
    items.push(li);
  }
  el.dataset['program'] = program;
  clear(el, ...items);
}

/** Marks the instruction at `pc` as the current one and scrolls it into view (within the listing only). */
export function markCurrent(el: HTMLElement, pc: number | undefined): void {
  for (const li of el.querySelectorAll('li.current')) li.classList.remove('current');
  if (pc === undefined) return;
  const li = el.querySelector(`li[data-pc="${pc}"]`);
  if (!(li instanceof HTMLElement)) return;
  li.classList.add('current');
  const top = li.offsetTop - el.offsetTop;
  if (top < el.scrollTop || top > el.scrollTop + el.clientHeight - li.offsetHeight) el.scrollTop = Math.max(0, top - el.clientHeight / 3);
}
