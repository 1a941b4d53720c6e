import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Gateway, GatewayResponse } from "~/server/gateway";
import { serveGatewayRequest } from "~/server/http/node-adapter";

/*
 * How the node:http adapter puts a streamed answer on the wire: the headers travel with the first chunk when it is
 * ready at once (one socket write, not two), and go out on their own when the first chunk keeps the client waiting.
 * The gateway core is replaced by a plain object answering what each test sets: this is about the adapter alone.
 */

let server: Server;
let baseUrl: string;
let answer: () => GatewayResponse;
/** The bytes of each write the server made to a client socket, in order. */
const socketWrites: string[] = [];

/** Records what the socket hands to the kernel: one `_write` or `_writev` call is one send. */
function recordWrites(socket: Socket): void {
  const stream = socket as unknown as {
    _write(chunk: Buffer, encoding: BufferEncoding, callback: (error?: Error | null) => void): void;
    _writev(chunks: { chunk: Buffer | string }[], callback: (error?: Error | null) => void): void;
  };
  const write = stream._write.bind(socket);
  const writev = stream._writev.bind(socket);
  stream._write = (chunk, encoding, callback) => {
    socketWrites.push(Buffer.from(chunk).toString("latin1"));
    write(chunk, encoding, callback);
  };
  stream._writev = (chunks, callback) => {
    socketWrites.push(chunks.map(({ chunk }) => Buffer.from(chunk).toString("latin1")).join(""));
    writev(chunks, callback);
  };
}

beforeAll(async () => {
  const gateway: Pick<Gateway, "handle"> = { handle: () => Promise.resolve(answer()) };
  server = createServer((request, response) => {
    void serveGatewayRequest(gateway, request, response, { maxBodyBytes: 1024 });
  });
  server.on("connection", recordWrites);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
});

function streamed(body: AsyncIterable<string>): GatewayResponse {
  return { status: 200, headers: { "content-type": "text/event-stream" }, body };
}

it("sends the headers and a first chunk that is ready at once in one write", async () => {
  socketWrites.length = 0;
  answer = () =>
    streamed(
      (async function* () {
        // Settles on the same turn of the event loop, as the gateway's first chunk does.
        await Promise.resolve();
        yield "data: first\n\n";
        yield "data: [DONE]\n\n";
      })(),
    );

  const response = await fetch(`${baseUrl}/v1/chat/completions`, { method: "POST", body: "{}" });
  expect(await response.text()).toBe("data: first\n\ndata: [DONE]\n\n");

  const first = socketWrites[0] ?? "";
  expect(first).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(first).toContain("content-type: text/event-stream");
  expect(first).toContain("data: first\n\n");
});

it("sends the headers on their own while the first chunk keeps the client waiting", async () => {
  socketWrites.length = 0;
  const { promise: headersSeen, resolve: sawHeaders } = Promise.withResolvers<void>();
  answer = () =>
    streamed(
      (async function* () {
        // Produced only once the client has the headers: without them going out first, this never resolves.
        await headersSeen;
        yield "data: late\n\n";
      })(),
    );

  const response = await fetch(`${baseUrl}/v1/chat/completions`, { method: "POST", body: "{}" });
  expect(response.status).toBe(200);
  expect(socketWrites).toHaveLength(1);
  expect(socketWrites[0]).not.toContain("data: late");
  sawHeaders();
  expect(await response.text()).toBe("data: late\n\n");
});
