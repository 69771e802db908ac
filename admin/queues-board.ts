// bull-board (the BullMQ queues: waiting, active, failed jobs, retry) inside the back office, behind
// the admin's own session and role check (app.ts mounts it after requireStaff + requireRole). Its
// UI and assets come from node_modules (@bull-board/ui): nothing is fetched from the network.
import type { Router } from "express";
import type { Queue } from "bullmq";
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";

export function queuesBoard(queues: Queue[], basePath: string, options: { homeHref: string }): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    // @bull-board/express 9.10.1 carries its own nested @bull-board/api 9.10.1, so its adapter type
    // differs nominally from the top-level 9.10.2 one; at runtime it is the same interface.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]["serverAdapter"],
    options: { uiConfig: { boardTitle: "coursepay", miscLinks: [{ text: "Admin", url: options.homeHref }] } },
  });
  return serverAdapter.getRouter() as Router;
}
