// Tiny Prisma generator: writes the FULL datamodel DMMF (isId, relationFromFields,
// isRequired, enums...) which engineType="client" no longer ships at runtime.
const { generatorHandler } = require("@prisma/generator-helper");
const fs = require("node:fs");
const path = require("node:path");
generatorHandler({
  onManifest: () => ({ prettyName: "Full DMMF (for AdminJS)", defaultOutput: "../core/db/generated/dmmf.json" }),
  onGenerate: async (options) => {
    const out = options.generator.output.value;
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ datamodel: options.dmmf.datamodel }));
  },
});
