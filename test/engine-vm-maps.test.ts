// The Vm's map plumbing: shareMaps / sharedMaps reach lib/maps (checked like
// the other options), and freezeBeforeRun freezes a map when a program of the
// Vm next starts a run — not before, and only once.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.js';
import { AVAILABLE_ENGINES, Vm } from '../lib/vm.js';

const def = { type: 'array', keySize: 4, valueSize: 8, maxEntries: 2 } as const;
const key0 = new Uint8Array(4);

describe('Vm map options', () => {
  it('checks shareMaps and sharedMaps', () => {
    expect(() => new Vm({ shareMaps: 1 as never })).toThrow(UsageError);
    expect(() => new Vm({ shareMaps: 'yes' as never })).toThrow(/option shareMaps must be a boolean/);
    expect(() => new Vm({ sharedMaps: 'x' as never })).toThrow(/option sharedMaps/);
    expect(() => new Vm({ sharedMaps: null as never })).toThrow(/option sharedMaps/);
  });

  it('shareMaps keeps map storage shared; sharedMaps attaches another Vm to the same bytes', () => {
    const a = new Vm({ shareMaps: true });
    const map = a.createMap(def);
    const b = new Vm({ sharedMaps: a.maps.sharedState() });
    const other = b.createMap(def);
    map.set(key0, new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0]));
    expect(other.get(key0)?.[0]).toBe(7);
    // Without shareMaps, nothing is shared.
    expect(new Vm().createMap(def).get(key0)?.[0]).toBe(0);
  });
});

describe.each(AVAILABLE_ENGINES)('freezeBeforeRun on %s', (engine) => {
  it('freezes at the next run start, then JS writes fail and program writes go on', () => {
    const vm = new Vm({ engine });
    const map = vm.createMap(def);
    const other = vm.createMap(def);
    vm.freezeBeforeRun(map).freezeBeforeRun(map);
    // Not yet: the loader may still fill it in.
    map.set(key0, new Uint8Array(8).fill(1));
    expect(map.frozen).toBe(false);
    const prog = vm.load(`
      lddw %r1, map_fd ${map.fd}
      mov %r2, %r10
      add %r2, -4
      stw [%r10-4], 0
      call 1
      jeq %r0, 0, +2
      stdw [%r0+0], 9
      mov %r0, 1
      exit`);
    expect(prog.run()).toBe(1n);
    expect(map.frozen).toBe(true);
    expect(other.frozen).toBe(false);
    // The program's store went through; a JS write does not.
    expect(map.get(key0)?.[0]).toBe(9);
    expect(() => map.set(key0, new Uint8Array(8))).toThrow(/frozen/);
    // The list was cleared: a later registration freezes at the next run only.
    vm.freezeBeforeRun(other);
    expect(other.frozen).toBe(false);
    prog.run();
    expect(other.frozen).toBe(true);
  });

  it('takes only maps of this Vm', () => {
    const vm = new Vm({ engine });
    const foreign = new Vm().createMap(def);
    expect(() => vm.freezeBeforeRun(foreign)).toThrow(UsageError);
    expect(() => vm.freezeBeforeRun({} as never)).toThrow(UsageError);
  });
});
