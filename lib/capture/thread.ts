// One thread of a capture run, in the runtime's own form: Node's
// worker_threads, or a Web Worker under Deno (the issue asks for Deno's
// native workers rather than its node:worker_threads emulation). Both ends
// are here: startThread() on the calling thread, threadPort() in the thread.
//
// The two forms differ in how the thread gets its start data: worker_threads
// passes it as workerData; a Web Worker has no such thing, so startThread
// posts it as the first message and threadPort() takes it off the front.
// Messages that arrive before the thread's code listens are queued, so
// nothing is lost between that first message and the next ones.
//
// Types are structural (no Deno type package): the repo type-checks against
// Node's types only.

import { Worker as NodeWorker, parentPort, workerData } from 'node:worker_threads';

/** Which kind of thread the runtime gives: 'worker_threads' under Node, 'web' (Web Workers) under Deno. */
export type ThreadKind = 'worker_threads' | 'web';

export interface ThreadHandlers<In> {
  /** A message from the thread. */
  message(message: In): void;
  /** The thread could not start, threw, or sent a message that could not be decoded. */
  error(error: Error): void;
  /** The thread stopped with this exit code (worker_threads only: Web Workers have no exit event). */
  exit(code: number): void;
}

/** The calling thread's handle on a started thread. */
export interface Thread<Out> {
  readonly kind: ThreadKind;
  post(message: Out, transfer?: readonly ArrayBuffer[]): void;
  /** Stops the thread; resolves when it is gone. No handler is called afterwards. */
  terminate(): Promise<void>;
}

/** The thread's end: what threadPort() gives the thread's code (the shape lib/capture/worker-loop.ts expects). */
export interface ThreadPort<Out, In> {
  postMessage(message: Out, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (message: In) => void): void;
}

// The parts of the Web Worker API used here (Deno's globals; not in Node's types).
interface MessageEventLike { readonly data: unknown }
interface ErrorEventLike { readonly message?: string; readonly error?: unknown; preventDefault(): void }
interface WebWorkerLike {
  onmessage: ((e: MessageEventLike) => void) | null;
  onerror: ((e: ErrorEventLike) => void) | null;
  onmessageerror: ((e: MessageEventLike) => void) | null;
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
  terminate(): void;
}
type WebWorkerConstructor = new (url: string, options: { type: 'module' }) => WebWorkerLike;
interface WorkerScopeLike {
  onmessage: ((e: MessageEventLike) => void) | null;
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void;
}

/** The kind of thread this runtime gives. */
export function threadKind(): ThreadKind {
  return typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined' ? 'web' : 'worker_threads';
}

/** Starts `url` (an ES module) as a thread that receives `init` (structured-cloned) through threadPort(). */
export function startThread<Out, In>(url: URL, init: unknown, handlers: ThreadHandlers<In>): Thread<Out> {
  return threadKind() === 'web' ? startWeb(url, init, handlers) : startNode(url, init, handlers);
}

function startNode<Out, In>(url: URL, init: unknown, handlers: ThreadHandlers<In>): Thread<Out> {
  const thread = new NodeWorker(url, { workerData: init });
  let stopped = false;
  thread.on('message', (m: In) => void (stopped || handlers.message(m)));
  thread.on('error', (e: Error) => void (stopped || handlers.error(e)));
  thread.on('messageerror', (e: Error) => void (stopped || handlers.error(new Error(`bad message: ${e.message}`))));
  thread.on('exit', (code: number) => void (stopped || handlers.exit(code)));
  return {
    kind: 'worker_threads',
    post: (message, transfer) => thread.postMessage(message, transfer as ArrayBuffer[] | undefined),
    terminate: async () => {
      stopped = true;
      await thread.terminate();
    },
  };
}

function startWeb<Out, In>(url: URL, init: unknown, handlers: ThreadHandlers<In>): Thread<Out> {
  const WebWorker = (globalThis as { Worker?: WebWorkerConstructor }).Worker;
  if (WebWorker === undefined) throw new Error('this runtime has no Web Worker');
  const thread = new WebWorker(url.href, { type: 'module' });
  let stopped = false;
  thread.onmessage = (e) => void (stopped || handlers.message(e.data as In));
  thread.onerror = (e) => {
    // Handled here: without preventDefault Deno rethrows the thread's error in this thread and ends the process.
    e.preventDefault();
    if (stopped) return;
    handlers.error(e.error instanceof Error ? e.error : new Error(e.message ?? 'the thread failed'));
  };
  thread.onmessageerror = () => void (stopped || handlers.error(new Error('bad message: it could not be deserialized')));
  // A Web Worker queues messages until its module has loaded, so this is the thread's first message.
  thread.postMessage(init);
  return {
    kind: 'web',
    post: (message, transfer) => thread.postMessage(message, transfer === undefined ? undefined : [...transfer]),
    terminate: async () => {
      stopped = true;
      thread.terminate();
    },
  };
}

/** In a thread started by startThread: its init data and its end of the channel. */
export function threadPort<Init, Out, In>(): Promise<{ init: Init; port: ThreadPort<Out, In> }> {
  if (threadKind() === 'web') return webPort<Init, Out, In>();
  if (parentPort === null) return Promise.reject(new Error('this module runs as a thread started by startThread (lib/capture/thread.ts)'));
  const port = parentPort;
  return Promise.resolve({
    init: workerData as Init,
    port: {
      postMessage: (message, transfer) => port.postMessage(message, transfer as ArrayBuffer[] | undefined),
      on: (event, listener) => void port.on(event, listener),
    },
  });
}

function webPort<Init, Out, In>(): Promise<{ init: Init; port: ThreadPort<Out, In> }> {
  const scope = globalThis as unknown as WorkerScopeLike;
  return new Promise((resolve) => {
    let started = false;
    const queued: In[] = [];
    const listeners: ((message: In) => void)[] = [];
    const port: ThreadPort<Out, In> = {
      postMessage: (message, transfer) => scope.postMessage(message, transfer === undefined ? undefined : [...transfer]),
      on: (_event, listener) => {
        listeners.push(listener);
        for (const m of queued.splice(0)) listener(m);
      },
    };
    scope.onmessage = (e) => {
      if (!started) {
        started = true;
        resolve({ init: e.data as Init, port });
      } else if (listeners.length === 0) queued.push(e.data as In);
      else for (const listener of listeners) listener(e.data as In);
    };
  });
}
