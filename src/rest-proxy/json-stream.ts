// Splits a byte stream of concatenated JSON values ({..}{..} or newline separated) into one
// text per top-level value, without parsing: the streaming produce mode reads records one by
// one and never holds the whole request.
export class JsonValueSplitter {
  private parts: Buffer[] = [];
  private partsLength = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;
  private scalar = false;

  constructor(private readonly maxValueBytes: number) {}

  /** Feeds a chunk; returns the complete values it closed. Throws when one value is too large. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = 0;
    // Next backslash at or after the scan position (-1: none left in this chunk): strings are
    // skipped with indexOf instead of byte by byte, so one backslash search per chunk suffices
    // for the usual escape-free payloads.
    let backslash = -2;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (!this.started) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c) {
          start = i + 1;
          continue;
        }
        this.started = true;
        start = i;
        if (c === 0x7b || c === 0x5b) this.depth = 1;
        else if (c === 0x22) {
          this.inString = true;
          this.scalar = true;
        } else this.scalar = true;
        continue;
      }
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          continue;
        }
        if (c !== 0x22 && c !== 0x5c) {
          const quote = chunk.indexOf(0x22, i);
          if (backslash !== -1 && backslash < i) backslash = chunk.indexOf(0x5c, i);
          const stop = quote === -1 ? (backslash === -1 ? chunk.length : backslash) : backslash === -1 ? quote : Math.min(quote, backslash);
          if (stop === chunk.length) {
            i = chunk.length - 1;
            continue;
          }
          i = stop;
        }
        if (chunk[i] === 0x5c) this.escaped = true;
        else {
          this.inString = false;
          if (this.scalar && this.depth === 0) {
            out.push(this.take(chunk, start, i + 1));
            start = i + 1;
          }
        }
        continue;
      }
      if (this.scalar) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c) {
          out.push(this.take(chunk, start, i));
          start = i + 1;
        }
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.take(chunk, start, i + 1));
          start = i + 1;
        }
      }
    }
    if (this.started) {
      const rest = chunk.subarray(start);
      this.partsLength += rest.length;
      if (this.partsLength > this.maxValueBytes) throw new Error(`a record is larger than ${this.maxValueBytes} bytes`);
      this.parts.push(rest);
    }
    return out;
  }

  /** At end of input: the trailing value (a bare scalar), or an error when one is unfinished. */
  end(): string[] {
    if (!this.started) return [];
    if (this.scalar && !this.inString) {
      const s = Buffer.concat(this.parts).toString('utf8');
      this.reset();
      return [s];
    }
    throw new Error('the request body ends inside a JSON value');
  }

  private take(chunk: Buffer, start: number, end: number): string {
    const piece = chunk.subarray(start, end);
    const text = this.parts.length ? Buffer.concat([...this.parts, piece]).toString('utf8') : piece.toString('utf8');
    this.reset();
    return text;
  }

  private reset(): void {
    this.parts = [];
    this.partsLength = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.started = false;
    this.scalar = false;
  }
}
