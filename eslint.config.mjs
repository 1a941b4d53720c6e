import js from "@eslint/js";
import drizzle from "eslint-plugin-drizzle";
import tseslint from "typescript-eslint";

/** Imports the framework-free core must never make: it runs behind node:http and Next alike. */
const coreBoundary = {
  patterns: [
    { group: ["next", "next/*", "react", "react-dom", "react/*"], message: "The gateway core is framework-free." },
    { group: ["~/env"], message: "The core receives configuration from the container; only src/env.ts reads env." },
    { group: ["~/server/container"], message: "The core receives its dependencies; it does not fetch them." },
    {
      regex: "^~/server/db(/index)?$",
      allowTypeImports: true,
      message: "Inject the database; import only its types (and the schema) here.",
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      ".next/**",
      ".build/**",
      "node_modules/**",
      ".data/**",
      "drizzle/**",
      "next-env.d.ts",
      "coverage/**",
      "test-results/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { drizzle },
    rules: {
      "drizzle/enforce-delete-with-where": ["error", { drizzleObjectName: ["db", "tx"] }],
      "drizzle/enforce-update-with-where": ["error", { drizzleObjectName: ["db", "tx"] }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
      "@typescript-eslint/only-throw-error": "error",
    },
  },
  {
    files: ["src/server/gateway/**/*.ts", "src/server/billing/**/*.ts"],
    // The composition glue that turns the environment and the container into the billing core's dependencies.
    ignores: ["src/server/billing/stripe/config.ts", "src/server/billing/stripe/deps-from-container.ts"],
    rules: { "no-restricted-imports": ["error", coreBoundary] },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
