// The real curl against a real provisioning server: what a phone's HTTP
// client does, with nobody's code of ours on the client side.
import { execFile } from 'node:child_process';

export interface CurlResult {
  /** curl's exit code: 0 when an HTTP answer came (any status), 7 refused, 52 empty reply, 35/60 TLS... */
  exit: number;
  status: number;
  body: string;
  stderr: string;
}

/** Runs curl with args; -s, a status line written after the body, and a 10 s limit are added. */
export function curl(...args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code}', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const exit = err ? Number((err as { code?: unknown }).code ?? 1) : 0;
      const cut = stdout.lastIndexOf('\n');
      resolve({ exit, status: Number(stdout.slice(cut + 1)) || 0, body: stdout.slice(0, cut), stderr });
    });
  });
}
