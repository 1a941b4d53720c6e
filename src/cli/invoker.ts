/** The CLI process's own surroundings, which a command may refer to but a server running it would not share. */
export interface Invoker {
  cwd: string;
  variables: Readonly<Record<string, string | undefined>>;
}
