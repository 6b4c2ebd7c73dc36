'use strict';
// Starting, sampling and stopping the measured processes. Servers (and Redis) run on core 0, everything
// else — this orchestrator, the OTLP sink and the load generator — on core 1.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const CLOCK_TICKS_PER_SECOND = 100;
const SERVER_CORE = process.env.BENCH_SERVER_CORE ?? '0';
const running = new Set();

/** Kills every process started here: an interrupted benchmark must not leave servers behind. */
function killAll() {
  for (const child of running) child.kill('SIGKILL');
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Resident memory in bytes, from /proc/<pid>/status. */
function rssBytes(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

async function waitForPort(port, child, name, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before listening; see ${child.logPath}`);
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} did not listen on ${port} within ${timeoutMs / 1000} s; see ${child.logPath}`);
}

/**
 * Starts a command pinned to the server core, logging to logDirectory/name-port.log: a run starts the same system
 * once per repeat, and each process's log is kept (a name alone kept only the last one's).
 */
async function startPinned({ name, command, args, env, cwd, port, logDirectory }) {
  fs.mkdirSync(logDirectory, { recursive: true });
  const logPath = path.join(logDirectory, name.endsWith(`-${port}`) ? `${name}.log` : `${name}-${port}.log`);
  const log = fs.openSync(logPath, 'w');
  const child = spawn('taskset', ['-c', SERVER_CORE, command, ...args], {
    cwd, env: { ...process.env, ...env }, stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  child.logPath = logPath;
  running.add(child);
  child.once('exit', () => running.delete(child));
  await waitForPort(port, child, name);
  return {
    name,
    pid: child.pid,
    logPath,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', resolve);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10000).unref();
    }),
  };
}

module.exports = { cpuSeconds, rssBytes, freePort, startPinned, killAll };
