// `npm run staff -- <command>`: back-office accounts from the shell. A generated password is printed
// once and stored only as a scrypt hash; there is no default password anywhere.
//
//   npm run staff -- create EMAIL [--role viewer|operator|admin]   (default role: viewer)
//   npm run staff -- reset EMAIL      new password; the account's open sessions end
//   npm run staff -- disable EMAIL    cannot log in; open sessions end
//   npm run staff -- enable EMAIL
//   npm run staff -- list
//
// Uses DATABASE_URL; without it, the local PostgreSQL that `npm start` uses (.data/).
import path from "node:path";
import type { PrismaClient, StaffRole } from "@prisma/client";
import { generatePassword, hashPassword } from "../core/auth/password.ts";
import { createPrisma } from "../core/db/index.ts";

const ROLES: StaffRole[] = ["viewer", "operator", "admin"];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const USAGE = `usage: npm run staff -- create EMAIL [--role viewer|operator|admin]
       npm run staff -- reset EMAIL | disable EMAIL | enable EMAIL | list`;

export class StaffCommandError extends Error {}

/** Ends every session of a staff account (staff_session.sess is express-session's JSON). */
async function endSessions(prisma: PrismaClient, staffId: number): Promise<number> {
  return prisma.$executeRaw`DELETE FROM staff_session WHERE (sess->>'staffId')::int = ${staffId}`;
}

function parseEmail(value: string | undefined): string {
  const email = (value ?? "").trim().toLowerCase();
  if (!EMAIL.test(email)) throw new StaffCommandError(`expected an email address, got ${JSON.stringify(value ?? "")}\n${USAGE}`);
  return email;
}

function parseRole(args: string[]): StaffRole {
  const i = args.indexOf("--role");
  if (i < 0) return "viewer";
  const role = args[i + 1] as StaffRole;
  if (!ROLES.includes(role)) throw new StaffCommandError(`--role must be one of ${ROLES.join(", ")}`);
  return role;
}

/** Runs one command; returns what to print. Throws StaffCommandError for usage errors. */
export async function runStaffCommand(prisma: PrismaClient, argv: string[]): Promise<string> {
  const [command, ...args] = argv;
  switch (command) {
    case "create": {
      const email = parseEmail(args[0]);
      const role = parseRole(args);
      if (await prisma.staffUser.findUnique({ where: { email } })) {
        throw new StaffCommandError(`${email} already exists: use \`npm run staff -- reset ${email}\` for a new password`);
      }
      const password = generatePassword();
      await prisma.staffUser.create({ data: { email, role, passwordHash: await hashPassword(password) } });
      return `created ${role} ${email}\npassword: ${password}\n(shown once: hand it over securely)`;
    }
    case "reset": {
      const email = parseEmail(args[0]);
      const staff = await prisma.staffUser.findUnique({ where: { email } });
      if (!staff) throw new StaffCommandError(`no staff account ${email}: create it with \`npm run staff -- create ${email} --role …\``);
      const password = generatePassword();
      await prisma.staffUser.update({ where: { id: staff.id }, data: { passwordHash: await hashPassword(password) } });
      const ended = await endSessions(prisma, staff.id);
      return `reset ${staff.role} ${email}${staff.disabled ? " (account is disabled)" : ""}; ${ended} session(s) ended\npassword: ${password}\n(shown once: hand it over securely)`;
    }
    case "disable":
    case "enable": {
      const email = parseEmail(args[0]);
      const staff = await prisma.staffUser.findUnique({ where: { email } });
      if (!staff) throw new StaffCommandError(`no staff account ${email}`);
      await prisma.staffUser.update({ where: { id: staff.id }, data: { disabled: command === "disable" } });
      const ended = command === "disable" ? await endSessions(prisma, staff.id) : 0;
      return `${command}d ${email}${command === "disable" ? `; ${ended} session(s) ended` : ""}`;
    }
    case "list": {
      const all = await prisma.staffUser.findMany({ orderBy: { email: "asc" } });
      if (!all.length) return "no staff accounts";
      return all
        .map((s) => `${s.email}\t${s.role}${s.disabled ? "\tdisabled" : ""}\tlast login ${s.lastLoginAt?.toISOString() ?? "never"}`)
        .join("\n");
    }
    default:
      throw new StaffCommandError(USAGE);
  }
}

async function databaseUrl(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  const { ensureLocalServices } = await import("./local-services.ts");
  const root = path.resolve(import.meta.dirname, "..");
  const services = await ensureLocalServices({ dataDir: path.resolve(process.env.COURSEPAY_DATA_DIR ?? path.join(root, ".data")), log: () => {} });
  return { url: services.databaseUrl, stop: services.stop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const db = await databaseUrl();
  const prisma = createPrisma(db.url, { poolSize: 1 });
  let code = 0;
  try {
    process.stdout.write((await runStaffCommand(prisma, process.argv.slice(2))) + "\n");
  } catch (e) {
    process.stderr.write(`staff: ${e instanceof StaffCommandError ? e.message : (e as Error).stack}\n`);
    code = e instanceof StaffCommandError ? 2 : 1;
  } finally {
    await prisma.$disconnect();
    await db.stop();
  }
  process.exit(code);
}
