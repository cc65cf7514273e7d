import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { exportCa } from '../security/certs.ts';
import { CliError, DATA_DIR_OPTION, print, resolveDataDir } from './common.ts';
import { applyAndReport } from './cert-apply.ts';

export function registerCertCommands(program: Command): void {
  const cert = program.command('cert').description('certificates');
  cert
    .command('export-ca')
    .description('write the root CA certificate for phones and tools to trust')
    .requiredOption('--out <file>', 'output file')
    .option('--der', 'DER instead of PEM')
    .option(...DATA_DIR_OPTION)
    .action(async (o: { out: string; der?: boolean; dataDir?: string }) => {
      let data: Buffer;
      try {
        data = await exportCa(resolveDataDir(o.dataDir), o.der ? 'der' : 'pem');
      } catch (err) {
        throw new CliError(`no root CA in ${resolveDataDir(o.dataDir)} (start the server once to create it): ${(err as Error).message}`);
      }
      await writeFile(o.out, data);
      print(`wrote ${o.out}`);
    });
  cert
    .command('apply')
    .description('make the running server present what the data directory holds now (as SIGHUP), and say what changed')
    .option(...DATA_DIR_OPTION)
    .action(async (o: { dataDir?: string }) => {
      await applyAndReport(resolveDataDir(o.dataDir));
    });
}
