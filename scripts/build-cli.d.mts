export const CLI_OUT_DIR: string;
export const CLI_BIN: string;
export const CLI_META: string;
export function buildCli(): Promise<unknown>;
