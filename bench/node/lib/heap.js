'use strict';
// A .NET server's managed heap after a full, blocking collection, read with dotnet-gcdump (bench.sh installs it
// into .tools/): the heap dump forces the collection, and its report's first line is the live heap's size. RSS
// also counts the runtime, native buffers and memory the GC has not returned; this is what our objects hold.
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const TOOL = path.resolve(__dirname, '..', '..', '..', '.tools', 'dotnet-gcdump');

const run = (args) => new Promise((resolve, reject) => {
  execFile(TOOL, args, { timeout: 120_000, maxBuffer: 64 * 2 ** 20 }, (error, stdout, stderr) =>
    (error ? reject(new Error(`dotnet-gcdump ${args[0]} failed: ${stderr || error.message}`)) : resolve(stdout)));
});

/** Live managed bytes of the process after a full GC; null (with a warning) when the tool is missing or fails. */
async function managedHeapBytes(pid, log) {
  if (!fs.existsSync(TOOL)) {
    log(`  managed heap not measured: ${TOOL} is missing (./bench.sh installs it)`);
    return null;
  }

  // BENCH_GCDUMP_DIR keeps the dumps (`dotnet-gcdump report <file>` lists what holds the heap, by type).
  const keep = process.env.BENCH_GCDUMP_DIR;
  if (keep) fs.mkdirSync(keep, { recursive: true });
  const file = path.join(keep || os.tmpdir(), `bench-${pid}-${Date.now()}.gcdump`);
  try {
    await run(['collect', '-p', String(pid), '-o', file]);
    const report = await run(['report', file]);
    const match = /([\d,]+)\s+GC Heap bytes/.exec(report);
    if (!match) throw new Error(`no "GC Heap bytes" line in its report:\n${report.slice(0, 300)}`);
    return Number(match[1].replace(/,/g, ''));
  } catch (error) {
    log(`  managed heap not measured: ${error.message}`);
    return null;
  } finally {
    if (!keep) fs.rmSync(file, { force: true });
  }
}

module.exports = { managedHeapBytes };
