export const CLI_OUT_DIR: string;
export const CLI_BIN: string;
export function buildCli(): Promise<unknown>;
