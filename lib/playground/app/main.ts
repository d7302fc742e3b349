// The playground page: wires the controls in index.html to a Session
// (session.ts) and a Recording (recording.ts), and renders their results
// with views.ts. All page state lives in one Page object made at start-up.

import { UsageError } from '../../errors.js';
import type { EngineName } from '../../vm.js';
import { byId, clear, h } from './dom.js';
import { formatHex, parseHex } from './hex.js';
import {
  breakpointKey, changedRegisters, continueFrom, record, reverseContinueFrom, stepOverFrom, type Recording,
} from './recording.js';
import { EXAMPLE_ASM, EXAMPLE_INPUT, EXAMPLE_MAPS, SAMPLE_PACKETS } from './samples.js';
import { CONTEXT_KINDS, DEFAULT_BUDGET, errorView, parseBudget, Session, type ContextKind, type RunOutcome } from './session.js';
import { markCurrent, showError, showHexDump, showListing, showMaps, showOutcome, showRegisters } from './views.js';

const el = {
  status: byId('status', HTMLElement),
  sourceAsm: byId('source-asm', HTMLInputElement),
  sourceElf: byId('source-elf', HTMLInputElement),
  asmPane: byId('asm-pane', HTMLElement),
  elfPane: byId('elf-pane', HTMLElement),
  asm: byId('asm', HTMLTextAreaElement),
  mapsJson: byId('maps-json', HTMLTextAreaElement),
  dropZone: byId('drop-zone', HTMLElement),
  elfFile: byId('elf-file', HTMLInputElement),
  programSelect: byId('program-select', HTMLSelectElement),
  elfInfo: byId('elf-info', HTMLElement),
  contextSelect: byId('context-select', HTMLSelectElement),
  sampleSelect: byId('sample-select', HTMLSelectElement),
  inputHex: byId('input-hex', HTMLTextAreaElement),
  engineSelect: byId('engine-select', HTMLSelectElement),
  budget: byId('budget-input', HTMLInputElement),
  runButton: byId('run-button', HTMLButtonElement),
  debugButton: byId('debug-button', HTMLButtonElement),
  reloadButton: byId('reload-button', HTMLButtonElement),
  result: byId('result', HTMLElement),
  error: byId('error', HTMLElement),
  printk: byId('printk', HTMLElement),
  maps: byId('maps', HTMLElement),
  memory: byId('memory', HTMLElement),
  memoryCaption: byId('memory-caption', HTMLElement),
  debugPosition: byId('debug-position', HTMLElement),
  debugNote: byId('debug-note', HTMLElement),
  backButton: byId('back-button', HTMLButtonElement),
  stepButton: byId('step-button', HTMLButtonElement),
  overButton: byId('over-button', HTMLButtonElement),
  continueButton: byId('continue-button', HTMLButtonElement),
  rewindButton: byId('rewind-button', HTMLButtonElement),
  listing: byId('listing', HTMLElement),
  registers: byId('registers', HTMLElement),
  stack: byId('stack', HTMLElement),
  jitSource: byId('jit-source', HTMLElement),
  cfg: byId('cfg', HTMLElement),
};

class Page {
  private session: Session | undefined;
  /** The loaded source differs from the editor's (assembly or maps edited): the next Run reloads. */
  private dirty = true;
  private object: { name: string; bytes: Uint8Array } | undefined;
  private recording: Recording | undefined;
  private position = 0;
  private readonly breakpoints = new Set<string>();

  start(): void {
    el.asm.value = EXAMPLE_ASM;
    el.mapsJson.value = EXAMPLE_MAPS;
    el.inputHex.value = EXAMPLE_INPUT;
    el.budget.value = String(DEFAULT_BUDGET);
    for (const name of Object.keys(SAMPLE_PACKETS)) el.sampleSelect.append(h('option', { value: name }, name));
    el.sourceAsm.addEventListener('change', () => this.switchSource());
    el.sourceElf.addEventListener('change', () => this.switchSource());
    // 'change' fires when the editor loses focus: the views follow the text without reloading at every key.
    for (const box of [el.asm, el.mapsJson]) {
      box.addEventListener('input', () => {
        this.dirty = true;
        // A recording of the program as it was no longer goes with the text.
        if (this.recording !== undefined) this.forgetRecording();
      });
      box.addEventListener('change', () => this.guard(() => this.reload()));
    }
    el.elfFile.addEventListener('change', () => {
      const file = el.elfFile.files?.[0];
      if (file !== undefined) void this.openFile(file);
    });
    el.dropZone.addEventListener('dragover', (e) => {
      e.preventDefault();
      el.dropZone.classList.add('over');
    });
    el.dropZone.addEventListener('dragleave', () => el.dropZone.classList.remove('over'));
    el.dropZone.addEventListener('drop', (e) => {
      e.preventDefault();
      el.dropZone.classList.remove('over');
      const file = e.dataTransfer?.files[0];
      if (file !== undefined) void this.openFile(file);
    });
    el.programSelect.addEventListener('change', () => this.guard(() => this.selectProgram(true)));
    el.sampleSelect.addEventListener('change', () => {
      const make = SAMPLE_PACKETS[el.sampleSelect.value];
      if (make !== undefined) el.inputHex.value = formatHex(make());
    });
    el.runButton.addEventListener('click', () => this.guard(() => this.run()));
    el.debugButton.addEventListener('click', () => this.guard(() => this.debug()));
    el.reloadButton.addEventListener('click', () => this.guard(() => this.reload()));
    el.backButton.addEventListener('click', () => this.moveTo(this.position - 1));
    el.stepButton.addEventListener('click', () => this.moveTo(this.position + 1));
    el.overButton.addEventListener('click', () => this.recording && this.moveTo(stepOverFrom(this.recording, this.position)));
    el.continueButton.addEventListener('click', () => this.recording && this.moveTo(continueFrom(this.recording, this.position, this.breakpoints)));
    el.rewindButton.addEventListener('click', () => this.recording && this.moveTo(reverseContinueFrom(this.recording, this.position, this.breakpoints)));
    // Keys for the debugger, unless typing in a field: s step, b back, n step over, c continue, r reverse.
    const keys = new Map<string, HTMLButtonElement>([
      ['s', el.stepButton], ['b', el.backButton], ['n', el.overButton], ['c', el.continueButton], ['r', el.rewindButton],
    ]);
    document.addEventListener('keydown', (e) => {
      const t = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey || t instanceof HTMLTextAreaElement || t instanceof HTMLInputElement || t instanceof HTMLSelectElement) return;
      const button = keys.get(e.key);
      if (button === undefined || button.disabled) return;
      e.preventDefault();
      button.click();
    });
    this.guard(() => this.reload());
    this.showStop();
    el.status.textContent = 'Ready.';
    el.status.dataset['ready'] = '1';
  }

  /** Runs `f`, showing what it throws in the error box (typed errors by class and code). */
  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      showError(el.error, errorView(e));
      // What an earlier run showed no longer goes with the input: no stale r0 beside the error.
      clear(el.result);
    }
  }

  private get mode(): 'asm' | 'elf' {
    return el.sourceElf.checked ? 'elf' : 'asm';
  }

  private switchSource(): void {
    el.asmPane.hidden = this.mode !== 'asm';
    el.elfPane.hidden = this.mode !== 'elf';
    this.guard(() => this.reload());
  }

  private async openFile(file: File): Promise<void> {
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      this.object = { name: file.name, bytes };
    } catch (e) {
      showError(el.error, errorView(e));
      return;
    }
    el.sourceElf.checked = true;
    this.switchSource();
  }

  /** Loads the editor's assembly or the chosen object into a fresh Vm (maps start empty) and shows the program. */
  private reload(): void {
    this.session = undefined;
    this.dirty = false;
    this.forgetRecording();
    showError(el.error, undefined);
    clear(el.result, h('span', { class: 'note' }, 'Not run yet.'));
    el.printk.hidden = true;
    clear(el.programSelect);
    // Cleared first: a program that fails to load leaves no views of the previous one.
    this.clearProgramViews();
    if (this.mode === 'asm') {
      this.session = Session.fromAssembly(el.asm.value, el.mapsJson.value);
    } else if (this.object !== undefined) {
      this.session = Session.fromObject(this.object.bytes, this.object.name);
    } else {
      el.elfInfo.textContent = 'No object loaded yet.';
      return;
    }
    for (const p of this.session.programs) {
      el.programSelect.append(h('option', { value: p.name }, p.section === undefined ? p.name : `${p.name} (${p.section})`));
    }
    if (this.session.object !== undefined) {
      const n = this.session.programs.length;
      el.elfInfo.textContent = `${this.session.origin}: ${n} program${n === 1 ? '' : 's'}, ${this.session.vm.maps.list().length} maps`
        + (this.session.object.license === undefined ? '' : `, license ${this.session.object.license}`);
    }
    this.selectProgram(true);
    showMaps(el.maps, this.session.maps());
  }

  private clearProgramViews(): void {
    clear(el.listing);
    clear(el.jitSource);
    clear(el.cfg);
    showMaps(el.maps, { maps: [], globals: [] });
  }

  private get programName(): string {
    return el.programSelect.value;
  }

  /** Shows the selected program's listing, JavaScript and CFG; with `setContext`, picks the context its kind expects. */
  private selectProgram(setContext: boolean): void {
    const session = this.session;
    if (session === undefined) return;
    const entry = session.program(this.programName);
    if (setContext) {
      el.contextSelect.value = entry.context;
      if (entry.context !== 'memory' && el.sampleSelect.value === '') {
        el.sampleSelect.value = Object.keys(SAMPLE_PACKETS)[0]!;
        el.sampleSelect.dispatchEvent(new Event('change'));
      }
    }
    this.forgetRecording();
    this.showListingOf(entry.name);
    el.jitSource.textContent = session.jitSource(entry.name);
    // The SVG text comes from lib/cfg-render, which escapes every label (xmlText).
    el.cfg.innerHTML = session.cfgSvg(entry.name);
  }

  private showListingOf(program: string): void {
    const session = this.session;
    const entry = session?.findProgram(program);
    if (session === undefined || entry === undefined) {
      clear(el.listing, h('li', { class: 'note' }, `${program}: not a program of this object`));
      el.listing.dataset['program'] = program;
      return;
    }
    showListing(el.listing, program, session.listing(program), this.breakpoints, (pc) => {
      const key = breakpointKey(program, pc);
      if (!this.breakpoints.delete(key)) this.breakpoints.add(key);
      el.listing.querySelector(`li[data-pc="${pc}"]`)?.classList.toggle('breakpoint', this.breakpoints.has(key));
    });
  }

  private input(): { kind: ContextKind; bytes: Uint8Array } {
    const kind = el.contextSelect.value as ContextKind;
    if (!CONTEXT_KINDS.includes(kind)) throw new Error(`unknown context ${kind}`);
    return { kind, bytes: parseHex(el.inputHex.value) };
  }

  /** The budget field's value: a number input reads as '' for what is not a number, so ask it whether it was one. */
  private budget(): number {
    if (el.budget.validity.badInput) throw new UsageError('the budget must be a whole number of instructions');
    return parseBudget(el.budget.value);
  }

  private ready(): Session {
    if (this.dirty || this.session === undefined) this.reload();
    if (this.session === undefined) throw new UsageError(this.mode === 'elf' ? 'drop or choose a .o file first' : 'no program to run');
    return this.session;
  }

  private run(): void {
    const session = this.ready();
    showError(el.error, undefined);
    const { kind, bytes } = this.input();
    const engine = el.engineSelect.value as EngineName;
    const budget = this.budget();
    this.forgetRecording();
    const outcome = session.run(this.programName, engine, kind, bytes, budget);
    this.showRunResult(outcome, `on ${engine}`);
  }

  private debug(): void {
    const session = this.ready();
    showError(el.error, undefined);
    const { kind, bytes } = this.input();
    const budget = this.budget();
    this.forgetRecording();
    const rec = record(session, this.programName, kind, bytes, { budget });
    this.recording = rec;
    this.position = 0;
    this.showRunResult(rec.outcome, 'on interp, recorded');
    const n = rec.length;
    const mib = (rec.bytes / (1024 * 1024)).toFixed(1);
    el.debugNote.dataset['cutOff'] = rec.cutOff ?? '';
    el.debugNote.textContent = rec.cutOff === 'stops'
      ? `Recorded the first ${rec.limit.toLocaleString('en')} instructions only: the run was cut off there (its result is unknown).`
      : rec.cutOff === 'compare'
        ? `Recorded the first ${n.toLocaleString('en')} instructions only: comparing the input after each helper call (a helper may write it) reached its limit (2 GiB compared), and the run was cut off there (its result is unknown). A smaller input records further.`
      : rec.cutOff === 'bytes'
        ? `Recorded the first ${n.toLocaleString('en')} instructions only: the recording reached its memory limit (${mib} MiB of registers and changed bytes), and the run was cut off there (its result is unknown).`
        : `Recorded ${n.toLocaleString('en')} instruction${n === 1 ? '' : 's'}${rec.outcome.error === undefined ? '' : ' (the run ended with the error above)'}. A debug run is a real run: it changed the maps too.`;
    this.showStop();
  }

  private showRunResult(outcome: RunOutcome, label: string): void {
    showOutcome(el.result, el.error, el.printk, outcome, label);
    showMaps(el.maps, this.session!.maps());
    el.memoryCaption.textContent = '(input after the run; changed bytes highlighted)';
    showHexDump(el.memory, outcome.after, outcome.before);
  }

  private forgetRecording(): void {
    this.recording = undefined;
    this.position = 0;
    this.showStop();
  }

  private moveTo(index: number): void {
    const rec = this.recording;
    if (rec === undefined || rec.length === 0) return;
    this.position = Math.min(Math.max(index, 0), rec.length - 1);
    this.showStop();
  }

  /** Shows the recording at the current position: listing mark, registers, stack, memory. */
  private showStop(): void {
    const rec = this.recording;
    // The previous stop first: the recording rebuilds memory going forward cheaply.
    const previous = rec !== undefined && this.position > 0 && this.position < rec.length ? rec.snapshot(this.position - 1) : undefined;
    const stop = rec !== undefined && this.position < rec.length ? rec.snapshot(this.position) : undefined;
    const buttons = [el.backButton, el.stepButton, el.overButton, el.continueButton, el.rewindButton];
    for (const b of buttons) b.disabled = stop === undefined;
    if (rec === undefined || stop === undefined) {
      el.debugPosition.textContent = '';
      delete el.debugPosition.dataset['pc'];
      showRegisters(el.registers, undefined, new Set());
      clear(el.stack, h('span', { class: 'note' }, '—'));
      markCurrent(el.listing, undefined);
      return;
    }
    if (el.listing.dataset['program'] !== stop.program) this.showListingOf(stop.program);
    markCurrent(el.listing, stop.pc);
    const last = this.position === rec.length - 1;
    el.debugPosition.dataset['pc'] = String(stop.pc);
    el.debugPosition.textContent = `stop ${this.position + 1} of ${rec.length}${rec.truncated ? '+' : ''} · ${stop.program} pc ${stop.pc} · frame ${stop.frame}`
      + (stop.line === undefined ? '' : ` · ${stop.line}`) + (last && !rec.truncated ? ' · last instruction' : '');
    showRegisters(el.registers, stop, changedRegisters(previous, stop));
    // Eight bytes a row: the stack's slots are u64s, and the column is narrow.
    showHexDump(el.stack, stop.stack, previous?.stack, 8);
    el.memoryCaption.textContent = `(input before pc ${stop.pc}, stop ${this.position + 1}; bytes changed by the previous instruction highlighted)`;
    showHexDump(el.memory, stop.input, previous?.input);
    el.backButton.disabled = this.position === 0;
    el.rewindButton.disabled = this.position === 0;
    el.stepButton.disabled = last;
    el.overButton.disabled = last;
    el.continueButton.disabled = last;
  }
}

try {
  new Page().start();
} catch (e) {
  el.status.textContent = `The page failed to start: ${e instanceof Error ? e.message : String(e)}`;
  throw e;
}
