import express from "express";
import { databaseProbe, healthRoutes, redisProbe } from "../core/health/index.ts";
import { openRoleContext, serveHttp } from "../core/runtime/role.ts";

const ctx = openRoleContext("worker");
// The worker's own HTTP surface: health (and metrics) only.
const app = express();
app.use(healthRoutes("worker", [databaseProbe(ctx.prisma), redisProbe(ctx.redis)]));
await serveHttp(ctx, app, ctx.config.ports.worker);
ctx.lifecycle.listenSignals();
