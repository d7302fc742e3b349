// The playground page end to end, in headless Chromium driven by
// playwright-core (Debian's /usr/bin/chromium; skipped, with the reason
// printed, when it is absent): the page is built into a temporary folder and
// served by the CLI's server on a free port; a pasted assembly program runs
// on both engines (r0, memory, maps, generated JS, CFG), an invalid one
// shows its typed error, an ELF object goes in through the file input and
// runs on a packet (verdict, maps), the debugger steps through recorded
// runs, and a screenshot is taken.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startPlaygroundServer, type PlaygroundServer } from '../lib/cli/playground.js';
import { WRITE_EACH_BYTE } from './playground-programs.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`playground-e2e tests skipped: ${CHROMIUM} not found (Debian package chromium)`);

// What Chromium needs on a machine with a closed network, as root: no sandbox, and none of its background connections.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

/** a * b of the two u32 at the input's start, stored after them. */
const MULTIPLY = `# r0 = a * b, stored at offset 8
  ldxw %r2, [%r1]
  ldxw %r3, [%r1+4]
  mov %r0, %r2
  mul %r0, %r3
  stxw [%r1+8], %r0
  exit
`;


describe.skipIf(!hasChromium)('playground in headless Chromium', () => {
  let dir = '';
  let server: PlaygroundServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ebpf-playground-'));
    const root = join(dir, 'site');
    const build = spawnSync(process.execPath, ['lib/playground/build.mjs', '--out', root], { encoding: 'utf8' });
    expect(build.status, build.stderr + build.stdout).toBe(0);
    server = await startPlaygroundServer({ root, port: 0 });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    page.setDefaultTimeout(10_000);
    await page.goto(server.url);
    await page.waitForSelector('#status[data-ready="1"]');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('starts with the example loaded: listing, generated JavaScript, CFG', async () => {
    expect(pageErrors).toEqual([]);
    expect(await page.locator('#listing li.insn').count()).toBeGreaterThan(10);
    expect(await page.textContent('#jit-source')).toContain('function');
    expect(await page.locator('#cfg svg g.block').count()).toBeGreaterThan(2);
    // The example sums its input (01..08) and counts its runs in map fd 1.
    await page.click('#run-button');
    await expect.poll(() => page.getAttribute('#result', 'data-r0')).toBe('36');
    expect(await page.textContent('#maps [data-map="counts"] td:nth-child(2)')).toBe('1  (01 00 00 00 00 00 00 00)');
  });

  it('runs pasted assembly on both engines: r0, memory, registers when stepping', async () => {
    await page.fill('#asm', MULTIPLY);
    await page.fill('#maps-json', '');
    await page.fill('#input-hex', '06 00 00 00 07 00 00 00 00 00 00 00');
    for (const engine of ['jit', 'interp']) {
      await page.selectOption('#engine-select', engine);
      await page.click('#run-button');
      await expect.poll(() => page.getAttribute('#result', 'data-r0')).toBe('42');
      expect(await page.textContent('#result')).toContain(`on ${engine}`);
      expect(await page.isHidden('#error')).toBe(true);
      // Byte 8 of the input became 0x2a, and is marked changed.
      expect(await page.locator('#memory .byte.changed').allTextContents()).toEqual(['2a']);
    }
    expect(await page.textContent('#jit-source')).toContain('Math.imul');
    expect(await page.locator('#listing li.insn').count()).toBe(6);
    expect(await page.locator('#cfg svg').count()).toBe(1);

    await page.click('#debug-button');
    await expect.poll(() => page.getAttribute('#debug-position', 'data-pc')).toBe('0');
    expect(await page.textContent('#debug-note')).toContain('Recorded 6 instructions');
    for (let i = 0; i < 3; i++) await page.click('#step-button');
    expect(await page.getAttribute('#debug-position', 'data-pc')).toBe('3');
    expect(await page.textContent('#listing li.current')).toContain('mul %r0, %r3');
    expect(await page.textContent('#registers tr[data-reg="r2"]')).toContain('0x6');
    expect(await page.textContent('#registers tr[data-reg="r3"]')).toContain('0x7');
    expect(await page.textContent('#registers tr[data-reg="r0"]')).toContain('0x6');
    // r0 was just written by `mov %r0, %r2`: highlighted.
    expect(await page.getAttribute('#registers tr[data-reg="r0"]', 'class')).toContain('changed');
    await page.click('#back-button');
    expect(await page.getAttribute('#debug-position', 'data-pc')).toBe('2');
    // The keys do the same, outside the text fields.
    await page.click('#debug-panel h2');
    await page.keyboard.press('s');
    expect(await page.getAttribute('#debug-position', 'data-pc')).toBe('3');
    await page.keyboard.press('b');
    expect(await page.getAttribute('#debug-position', 'data-pc')).toBe('2');
    // A breakpoint on the store, then Continue stops there.
    await page.click('#listing li[data-pc="4"]');
    await page.click('#continue-button');
    expect(await page.getAttribute('#debug-position', 'data-pc')).toBe('4');
    expect(await page.textContent('#registers tr[data-reg="r0"]')).toContain('42');
  });

  it('ends a program that loops forever with the budget error, and the page still works', async () => {
    expect(await page.inputValue('#budget-input')).toBe('10000000');
    await page.fill('#asm', 'mov %r0, 0\nloop:\nadd %r0, 1\nja loop\n');
    await page.fill('#maps-json', '');
    for (const engine of ['jit', 'interp']) {
      await page.selectOption('#engine-select', engine);
      await page.click('#run-button', { timeout: 30_000 });
      await expect.poll(() => page.getAttribute('#error', 'data-code')).toBe('BUDGET_EXCEEDED');
      expect(await page.textContent('#error')).toMatch(/BudgetExceededError \(BUDGET_EXCEEDED\): instruction budget of 10000000 exceeded at pc [12]/);
      expect(await page.getAttribute('#result', 'data-r0')).toBeNull();
    }
    // A smaller budget, typed in the page.
    await page.fill('#budget-input', '1000');
    await page.click('#run-button');
    await expect.poll(() => page.textContent('#error')).toContain('instruction budget of 1000 exceeded');
    // Debug records the first 100,000 instructions and says it was cut off.
    await page.fill('#budget-input', '10000000');
    await page.click('#debug-button', { timeout: 30_000 });
    await expect.poll(() => page.getAttribute('#debug-note', 'data-cut-off')).toBe('stops');
    expect(await page.textContent('#debug-note')).toContain('Recorded the first 100,000 instructions only');
    expect(await page.textContent('#debug-position')).toContain('stop 1 of 100000+');
    // A bad budget is a typed error; then the page runs a program as before.
    await page.fill('#budget-input', '0');
    await page.click('#run-button');
    await expect.poll(() => page.getAttribute('#error', 'data-code')).toBe('USAGE');
    // What is not a number at all reads as '' from a number input: refused too, not run with the default.
    await page.fill('#budget-input', '');
    await page.locator('#budget-input').pressSequentially('1e');
    await page.click('#run-button');
    await expect.poll(() => page.textContent('#error')).toContain('the budget must be a whole number of instructions');
    await page.fill('#budget-input', '10000000');
    await page.fill('#asm', MULTIPLY);
    await page.fill('#input-hex', '06 00 00 00 07 00 00 00 00 00 00 00');
    await page.click('#run-button');
    await expect.poll(() => page.getAttribute('#result', 'data-r0')).toBe('42');
    expect(await page.isHidden('#error')).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('steps through a recorded loop over a 64 KiB input, forwards and back', async () => {
    await page.fill('#asm', WRITE_EACH_BYTE);
    await page.fill('#input-hex', '00 '.repeat(64 * 1024));
    await page.click('#debug-button', { timeout: 30_000 });
    await expect.poll(() => page.getAttribute('#debug-note', 'data-cut-off')).toBe('stops');
    // Stop 1 is before the first instruction; the store is pc 4, stop 5: byte 0 is 01 from stop 6 on.
    for (let i = 0; i < 4; i++) await page.click('#step-button');
    expect(await page.getAttribute('#debug-position', 'data-pc')).toBe('4');
    expect(await page.textContent('#memory .byte >> nth=0')).toBe('00');
    await page.click('#step-button');
    expect(await page.locator('#memory .byte.changed').allTextContents()).toEqual(['01']);
    await page.click('#back-button');
    expect(await page.textContent('#memory .byte >> nth=0')).toBe('00');
    // The breakpoint on pc 4 set earlier (breakpoints stay): Continue stops at the next iteration's store.
    expect(await page.getAttribute('#listing li[data-pc="4"]', 'class')).toContain('breakpoint');
    await page.click('#continue-button');
    expect(await page.textContent('#debug-position')).toContain('stop 11 of 100000+');
    expect(await page.textContent('#memory .byte >> nth=0')).toBe('01');
    expect(await page.textContent('#memory .byte >> nth=1')).toBe('00');
    // Without it, Continue goes to the end of the recording: 16,666 bytes written by then.
    await page.click('#listing li[data-pc="4"]');
    await page.click('#continue-button');
    expect(await page.textContent('#debug-position')).toContain('stop 100000 of 100000+');
    await page.click('#rewind-button');
    expect(await page.textContent('#debug-position')).toContain('stop 1 of');
    expect(await page.locator('#memory .byte', { hasText: '01' }).count()).toBe(0);
    await page.click('#continue-button');
    expect(await page.textContent('#memory .byte >> nth=100')).toBe('01');
    expect(pageErrors).toEqual([]);
  });

  it('shows a typed error for bad assembly', async () => {
    await page.fill('#asm', 'mov %r0, 1\nfrobnicate %r1\nexit\n');
    await page.click('#run-button');
    await expect.poll(() => page.isVisible('#error')).toBe(true);
    expect(await page.getAttribute('#error', 'data-code')).toBe('ASSEMBLER');
    expect(await page.textContent('#error')).toMatch(/AssemblerError .* line 2/);
    // Nothing of the previous program is left on show.
    expect(await page.locator('#listing li').count()).toBe(0);
    expect(await page.textContent('#jit-source')).toBe('');
  });

  it('Run with "ELF object" chosen and no file loaded: a UsageError, and no stale r0 beside it', async () => {
    await page.fill('#asm', 'mov %r0, 7\nexit\n');
    await page.click('#run-button');
    await expect.poll(() => page.textContent('#result')).toMatch(/7/);
    await page.check('#source-elf');
    await page.click('#run-button');
    await expect.poll(() => page.getAttribute('#error', 'data-code')).toBe('USAGE');
    expect(await page.textContent('#error')).toContain('drop or choose a .o file first');
    expect(await page.textContent('#result')).toBe('');
    await page.check('#source-asm');
  });

  it('shows an ElfError for a file that is not an object', async () => {
    await page.setInputFiles('#elf-file', { name: 'junk.o', mimeType: 'application/octet-stream', buffer: Buffer.from('not an ELF file at all') });
    await expect.poll(() => page.getAttribute('#error', 'data-code')).toBe('ELF');
    expect(await page.isVisible('#error')).toBe(true);
    expect(await page.locator('#program-select option').count()).toBe(0);
  });

  it('takes an ELF object dropped on the page, with a choice of its programs', async () => {
    const bytes = JSON.stringify([...readFileSync('fixtures/elf/socket_filter.o')]);
    // Page code as text: this file is compiled without the DOM types.
    await page.evaluate(`(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(${bytes})], 'socket_filter.o'));
      const drop = new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true });
      document.getElementById('drop-zone').dispatchEvent(drop);
    })()`);
    await expect.poll(() => page.isChecked('#source-elf')).toBe(true);
    await expect.poll(() => page.locator('#program-select option').count()).toBeGreaterThan(1);
    expect(await page.textContent('#elf-info')).toMatch(/^socket_filter\.o: \d+ programs/);
    await page.selectOption('#program-select', 'http_filter');
    expect(await page.inputValue('#context-select')).toBe('skb');
    await page.selectOption('#sample-select', 'TCP SYN to port 80');
    await page.click('#run-button');
    // A socket filter keeps skb->len bytes of a packet it accepts.
    await expect.poll(() => page.getAttribute('#result', 'data-r0')).toBe('54');
    expect(await page.textContent('#listing li.source >> nth=0')).toContain('socket_filter.c');
  });

  it('loads an ELF object from the file input and runs it on a packet: verdict and maps', async () => {
    await page.setInputFiles('#elf-file', 'fixtures/elf/xdp_stats.o');
    await expect.poll(() => page.inputValue('#program-select')).toBe('xdp_stats');
    expect(await page.inputValue('#context-select')).toBe('xdp');
    expect(await page.textContent('#elf-info')).toContain('xdp_stats.o: 1 program');
    // C lines from the object's BTF line info head the listing's instructions.
    expect(await page.textContent('#listing li.source >> nth=0')).toContain('xdp_stats.c');
    await page.selectOption('#sample-select', 'TCP SYN to port 23 (telnet)');
    for (const [engine, runs] of [['jit', '1'], ['interp', '2']] as const) {
      await page.selectOption('#engine-select', engine);
      await page.click('#run-button');
      await expect.poll(() => page.getAttribute('#result', 'data-r0')).toBe('1');
      expect(await page.textContent('#result .verdict')).toBe('XDP_DROP');
      expect(await page.textContent('#printk')).toContain('telnet SYN from 10.0.0.1 port 40000');
      // One TCP packet of 54 bytes per run, counted in proto_stats[0]; the drop in .bss.
      expect(await page.textContent('#maps [data-map="proto_stats"]')).toContain(`packets: ${runs}`);
      expect(await page.textContent('#maps [data-map=".bss"]')).toMatch(new RegExp(`telnet_dropped\\s*${runs}`));
    }
    await page.click('#debug-button');
    await expect.poll(() => page.getAttribute('#debug-position', 'data-pc')).toBe('0');
    const r1 = await page.textContent('#registers tr[data-reg="r1"] td');
    expect(r1).toMatch(/^0x[0-9a-f]+$/);
    expect(r1).not.toBe('0x0');
    for (let i = 0; i < 4; i++) await page.click('#step-button');
    const pc = Number(await page.getAttribute('#debug-position', 'data-pc'));
    expect(pc).toBeGreaterThan(0);
    expect(await page.getAttribute('#listing li.current', 'data-pc')).toBe(String(pc));
    expect(await page.textContent('#debug-position')).toContain('stop 5 of');
    // The debug run is a real run: a third packet counted.
    expect(await page.textContent('#maps [data-map="proto_stats"]')).toContain('packets: 3');
    expect(pageErrors).toEqual([]);
  });

  it('takes a screenshot', async () => {
    const png = join(dir, 'playground.png');
    await page.screenshot({ path: png, fullPage: true });
    const bytes = readFileSync(png);
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.length).toBeGreaterThan(20_000);
    if (process.env['PLAYGROUND_SCREENSHOT'] !== undefined) {
      const { copyFileSync } = await import('node:fs');
      copyFileSync(png, process.env['PLAYGROUND_SCREENSHOT']);
    }
  });
});
