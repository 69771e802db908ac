// closeServer (core/runtime) under keep-alive load: clients that send request after request on
// pooled connections never leave them idle, and Node's server.close() alone would serve them until
// the shutdown bound killed the process. closeServer must finish the requests in flight, answer
// with `Connection: close`, and be done promptly while the clients keep sending.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Agent, createServer, request } from "node:http";
import { closeServer, listen } from "../../../core/runtime/index.ts";

test("closes promptly under continuous keep-alive load, completing what is in flight", { timeout: 60_000 }, async () => {
  let started = 0;
  let finished = 0;
  const server = createServer((_req, res) => {
    started++;
    setTimeout(() => {
      finished++;
      res.end("ok");
    }, 20);
  });
  const port = await listen(server, 0, "127.0.0.1");
  const agent = new Agent({ keepAlive: true, maxSockets: 6 });
  let stop = false;
  let answered = 0;
  let refused = 0;
  const send = () =>
    new Promise<void>((resolve) => {
      const req = request({ host: "127.0.0.1", port, method: "POST", path: "/", agent }, (res) => {
        res.resume();
        res.on("end", () => {
          answered++;
          resolve();
        });
      });
      req.on("error", () => {
        refused++;
        resolve();
      });
      req.end("x");
    });
  const clients = Array.from({ length: 6 }, async () => {
    while (!stop) {
      await send();
      if (refused) await new Promise((r) => setTimeout(r, 5));
    }
  });
  // Busy first: wait until the pooled connections have carried a few requests each.
  while (answered <= 10) await new Promise((r) => setTimeout(r, 5));

  // Node's server.close() alone never finishes while keep-alive clients keep sending: the close must
  // resolve while they still are: the clients stop only after it has, so a close that waited for
  // them would never resolve and the test's timeout fails it.
  await closeServer(server);
  stop = true;
  await Promise.all(clients);
  agent.destroy();
  assert.equal(finished, started, "every request the server started was completed");
  const before = refused;
  await send();
  assert.equal(refused, before + 1, "a new request after closing is refused");
});
