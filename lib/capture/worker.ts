// Entry script of a capture worker thread, started by pool.ts through
// thread.ts (worker_threads under Node, a Web Worker under Deno). Everything
// is in worker-loop.ts; this file only connects it to the thread's port.

import type { BatchMessage, WorkerInit, WorkerMessage } from './protocol.js';
import { threadPort } from './thread.js';
import { serveCapture } from './worker-loop.js';

const { init, port } = await threadPort<WorkerInit, WorkerMessage, BatchMessage>();
serveCapture(port, init);
