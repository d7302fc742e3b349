// A capture worker: loads the spec into a Vm attached to the calling
// thread's shared maps (as CPU `cpu` of `cpus`), says 'ready', then runs
// each batch it is sent and answers with one 'done' message per batch.
//
// A batch stops at the first packet whose run throws: the answer says how
// many ran, and carries the error; later batches are still served (the
// calling thread decides what to do, and terminates the workers).

import { Vm, type VmOptions } from '../vm.js';
import { errorData } from './error.js';
import { packBytes, unpacked, type BatchMessage, type DoneMessage, type WorkerInit, type WorkerMessage } from './protocol.js';
import { subscribeRecords } from './records.js';
import { PacketRunner } from './runner.js';
import { loadSpec } from './spec.js';

export interface Port {
  postMessage(message: WorkerMessage, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (message: BatchMessage) => void): void;
}

export function serveCapture(port: Port, init: WorkerInit): void {
  // Per batch: what the program printed and recorded, tagged with the packet's position.
  let at = 0;
  let printkAt: number[] = [];
  let printk: string[] = [];
  let records: { at: number; map: string; data: Uint8Array }[] = [];
  let runner: PacketRunner;
  try {
    const options: VmOptions = {
      ...init.vm, engine: init.engine, cpus: init.cpus, sharedMaps: init.shared,
      printk: (line: string) => {
        printkAt.push(at);
        printk.push(line);
      },
    };
    const vm = new Vm(options);
    const spec = loadSpec(vm, init.spec, init.ctx);
    if (init.records) subscribeRecords(vm, (map, data) => void records.push({ at, map, data }));
    runner = new PacketRunner(spec, { engine: init.engine, cpu: init.cpu, outputs: init.outputs });
    // Compile before the first batch, so compile time is not counted as packet time.
    if (init.engine === 'jit') spec.prog.compile({ budget: init.vm.budget !== undefined });
  } catch (e) {
    port.postMessage({ type: 'failed', error: errorData(e) });
    return;
  }
  port.postMessage({ type: 'ready' });

  port.on('message', (batch) => {
    const start = performance.now();
    const count = batch.frames.ends.length;
    const verdicts = new BigUint64Array(count);
    const outputs: Uint8Array[] = [];
    let error: DoneMessage['error'];
    for (at = 0; at < count; at++) {
      try {
        verdicts[at] = runner.run(unpacked(batch.frames, at), batch.lens?.[at]);
      } catch (e) {
        error = errorData(e);
        break;
      }
      if (init.outputs) outputs.push(runner.output);
    }
    const packed = init.outputs ? packBytes(outputs) : undefined;
    const done: DoneMessage = {
      type: 'done', seq: batch.seq, ran: at, verdicts, busyNs: Math.round((performance.now() - start) * 1e6),
      outputs: packed, printkAt, printk, records, error,
    };
    printkAt = [];
    printk = [];
    records = [];
    port.postMessage(done, packed === undefined ? [verdicts.buffer as ArrayBuffer] : [verdicts.buffer as ArrayBuffer, packed.data]);
  });
}
