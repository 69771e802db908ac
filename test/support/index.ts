// Shared test helpers (integration, e2e, benches). See stack.ts for startStack().
export { startStack, testRedisPrefix, type Stack, type StackOptions, type TestBuyer } from "./stack.ts";
export { PrivateRedis } from "./redis-server.ts";
export { ROLE_START_CEILING_MS, spawnRole, type RoleProcess } from "./processes.ts";
export { CONDITION_CEILING_MS, waitFor, sleep, type WaitOptions } from "./wait.ts";
export { provisionServices, type ProvisionedServices } from "./services.ts";
export { autovacuumOf, backendsOf, cpuMeter, cpuSeconds, redisServerOf, rssBytes } from "./proc.ts";
export { statementStats, type StatementStats } from "./pg-statements.ts";
export { useOwnDatabase } from "./database.ts";
