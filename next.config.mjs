import process from "node:process";

/** @type {import('next').NextConfig} */
const nextConfig = {
  // PGlite ships WASM and data files that must be loaded from node_modules, not bundled.
  serverExternalPackages: ["@electric-sql/pglite", "@node-rs/argon2", "postgres"],
  poweredByHeader: false,
  typedRoutes: false,
  // Tests build the dashboard after `npm run typecheck` has checked the whole project, Next's route types included
  // (`next typegen`); checking it again cost 40 s of each test run's build. Every other build checks.
  typescript: { ignoreBuildErrors: process.env.TOLLGATE_BUILD_TYPE_CHECKED === "1" },
};

export default nextConfig;
