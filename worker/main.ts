import express from "express";
import { databaseProbe, healthRoutes, redisProbe } from "../core/health/index.ts";
import { metricsRoute } from "../core/metrics/index.ts";
import { openRoleContext, serveHttp } from "../core/runtime/role.ts";
import { startWorker } from "./start.ts";

const ctx = openRoleContext("worker");
// The worker's own HTTP surface: health and metrics only.
const app = express();
app.use(healthRoutes("worker", [databaseProbe(ctx.prisma), redisProbe(ctx.redis)]));
app.get("/metrics", metricsRoute);
const worker = await startWorker(ctx);
// Registered after the database and Redis, so it closes first: jobs finish while connections live.
ctx.lifecycle.onShutdown("worker", () => worker.close());
await serveHttp(ctx, app, ctx.config.ports.worker);
ctx.lifecycle.listenSignals();
