import { readFileSync, readdirSync } from 'node:fs';

/**
 * Kills a gateway replica (SIGKILL, as a crash would), found by the service.instance.id the AppHost gave it, which
 * is the replica name GetConnectionInfo reports (as Tests/Infrastructure/GatewayProcesses.cs does). Every process
 * that matches dies: the launcher (`dotnet run`) and the server it started share the environment, and killing
 * only the launcher would leave the server running.
 * @param {string} replica
 */
export function killReplica(replica) {
  let killed = 0;
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`service.instance.id=${replica}`)
        && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('RealtimeGateway')) {
        process.kill(Number(pid), 'SIGKILL');
        killed++;
      }
    } catch {
      // Gone meanwhile, or not ours.
    }
  }

  if (killed === 0) {
    throw new Error(`No RealtimeGateway process has service.instance.id=${replica}.`);
  }
}
