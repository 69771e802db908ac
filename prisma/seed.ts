// Demo data for local runs: a few courses, a demo buyer and a staff admin. Idempotent: re-running
// adds nothing that exists. Generated passwords are printed once, here, and stored only as hashes.
import { createPrisma } from "../core/db/index.ts";
import { generatePassword, hashPassword } from "../core/auth/password.ts";

const COURSES = [
  { title: "Python 入门 / Python for Beginners", description: "从零开始学 Python。", priceFen: 9900 },
  { title: "Django 实战 / Django in Practice", description: "用 Django 搭一个网店。", priceFen: 19900 },
  { title: "TypeScript 全栈 / Full-stack TypeScript", description: "Node, express, Prisma.", priceFen: 29900 },
  { title: "数据库设计 / Database Design", description: "PostgreSQL schema, indexes, transactions.", priceFen: 12800 },
  { title: "支付系统 / Building Payment Systems", description: "Idempotency, reconciliation, callbacks.", priceFen: 39900 },
];

export const DEMO_BUYER_EMAIL = "buyer@coursepay.local";
export const DEMO_STAFF_EMAIL = "admin@coursepay.local";

export interface SeededAccount {
  kind: "buyer" | "staff";
  email: string;
  password: string;
  /** One line for the console: who, the generated password, how to reset it. */
  line: string;
}

/** Returns the accounts created by this run (with their generated passwords, shown nowhere else). */
export async function seed(databaseUrl: string, print: (line: string) => void = console.log): Promise<SeededAccount[]> {
  const prisma = createPrisma(databaseUrl, { poolSize: 2 });
  const created: SeededAccount[] = [];
  try {
    for (const c of COURSES) {
      const exists = await prisma.course.findFirst({ where: { title: c.title } });
      if (!exists) await prisma.course.create({ data: c });
    }
    if (!(await prisma.user.findUnique({ where: { email: DEMO_BUYER_EMAIL } }))) {
      const password = generatePassword();
      await prisma.user.create({
        data: { email: DEMO_BUYER_EMAIL, displayName: "Demo buyer", passwordHash: await hashPassword(password) },
      });
      const line = `demo buyer created: ${DEMO_BUYER_EMAIL} / ${password}   (shown once)`;
      created.push({ kind: "buyer", email: DEMO_BUYER_EMAIL, password, line });
      print(line);
    }
    if (!(await prisma.staffUser.findUnique({ where: { email: DEMO_STAFF_EMAIL } }))) {
      const password = generatePassword();
      await prisma.staffUser.create({
        data: { email: DEMO_STAFF_EMAIL, role: "admin", passwordHash: await hashPassword(password) },
      });
      const line = `staff admin created: ${DEMO_STAFF_EMAIL} / ${password}   (shown once; reset with: npm run staff -- reset ${DEMO_STAFF_EMAIL})`;
      created.push({ kind: "staff", email: DEMO_STAFF_EMAIL, password, line });
      print(line);
    }
  } finally {
    await prisma.$disconnect();
  }
  return created;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!process.env.DATABASE_URL) {
    console.error("DATABASE_URL: required");
    process.exit(1);
  }
  await seed(process.env.DATABASE_URL);
}
