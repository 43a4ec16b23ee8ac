/** Where a command writes: stdout for its output, stderr for messages. Injectable for tests. */
export type Io = { out(text: string): void; err(text: string): void };

export const processIo: Io = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};
