/** Types of `function-lengths.mjs`. */
export interface FunctionLength {
  name: string;
  /** 1-based line of the function's first token. */
  line: number;
  lines: number;
}
export const FUNCTION_LINE_LIMIT: number;
export function functionLengths(fileName: string, text: string): FunctionLength[];
export function longFunctions(
  root: string,
  limit?: number,
): Array<FunctionLength & { file: string }>;
