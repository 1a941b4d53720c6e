import { connect, type Socket } from "node:net";
import { Worker } from "node:worker_threads";

export interface StalledListener {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  close(): Promise<void>;
}

/** The smallest backlog Node passes on (0 means its default of 511). */
const BACKLOG = 1;

/**
 * A loopback port where a TCP connection cannot be opened: it listens, but nothing ever accepts (the listening
 * thread's event loop is blocked), and its accept queue is filled up front. The kernel then drops every further SYN
 * (Linux, and BSDs, do not refuse: the client retransmits), so a client connecting there waits until its own connect
 * timeout. No network needed.
 */
export async function startStalledListener(): Promise<StalledListener> {
  const wake = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `
    const { parentPort, workerData } = require("node:worker_threads");
    const server = require("node:net").createServer();
    server.listen({ port: 0, host: "127.0.0.1", backlog: ${BACKLOG} }, () => {
      parentPort.postMessage(server.address().port);
      Atomics.wait(workerData, 0, 0);
    });
    `,
    { eval: true, workerData: wake },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
  });
  // The accept queue holds backlog + 1 connections: these take every place.
  const fillers: Socket[] = [];
  for (let index = 0; index <= BACKLOG; index += 1) {
    const socket = connect(port, "127.0.0.1");
    fillers.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
  }
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      for (const socket of fillers) socket.destroy();
      Atomics.store(wake, 0, 1);
      Atomics.notify(wake, 0);
      await worker.terminate();
    },
  };
}
