export * from "./users";
export * from "./api-keys";
export * from "./channels";
export * from "./models";
export * from "./usage";
export * from "./billing";
export * from "./audit";
