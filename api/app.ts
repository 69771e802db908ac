import express from "express";
import { databaseProbe, healthRoutes, redisProbe } from "../core/health/index.ts";
import type { RoleContext } from "../core/runtime/role.ts";

export function createApiApp(ctx: RoleContext): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(healthRoutes("api", [databaseProbe(ctx.prisma), redisProbe(ctx.redis)]));
  return app;
}
