// A SIP pinger on a thread of its own: OPTIONS over UDP every everyMs, with
// what came back measured on its own event loop, so a server blocking the
// test's loop (an in-process server) cannot hold up the pinger's clock.
// Used by the import tests and bench/user-import.ts.
import { Worker } from 'node:worker_threads';

// The pinger: plain JS on a worker thread. It answers 'stop' with what it saw.
const PINGER = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const { host, port, everyMs } = workerData;
const sock = dgram.createSocket('udp4');
const sentAt = new Map();
const answers = [];
let maxLatency = 0;
let slowest = 0;
sock.on('message', (m) => {
  const cseq = /\\r\\nCSeq: (\\d+) OPTIONS/i.exec(m.toString('latin1'));
  const t = sentAt.get(cseq && cseq[1]);
  if (t === undefined || !m.toString('latin1').startsWith('SIP/2.0 200')) return;
  const now = performance.now();
  if (now - t > maxLatency) { maxLatency = now - t; slowest = Number(cseq[1]); }
  answers.push(now);
  sentAt.delete(cseq[1]);
});
sock.bind(0, '127.0.0.1', () => {
  const lport = sock.address().port;
  let n = 0;
  const timer = setInterval(() => {
    n++;
    const msg = 'OPTIONS sip:' + host + ':' + port + ' SIP/2.0\\r\\n' +
      'Via: SIP/2.0/UDP 127.0.0.1:' + lport + ';branch=z9hG4bK-ping-' + n + '\\r\\n' +
      'Max-Forwards: 70\\r\\nFrom: <sip:pinger@test.local>;tag=ping\\r\\nTo: <sip:' + host + ':' + port + '>\\r\\n' +
      'Call-ID: ping-' + n + '@pinger\\r\\nCSeq: ' + n + ' OPTIONS\\r\\nContent-Length: 0\\r\\n\\r\\n';
    sentAt.set(String(n), performance.now());
    sock.send(msg, port, host);
  }, everyMs);
  parentPort.postMessage({ ready: true });
  parentPort.on('message', () => {
    clearInterval(timer);
    // The last pings get a second to be answered.
    setTimeout(() => {
      let maxGap = 0;
      for (let i = 1; i < answers.length; i++) maxGap = Math.max(maxGap, answers[i] - answers[i - 1]);
      parentPort.postMessage({ sent: n, answered: answers.length, unanswered: sentAt.size, maxLatency, slowest, maxGap });
      sock.close();
    }, 1000);
  });
});
`;

export interface PingReport {
  sent: number;
  answered: number;
  unanswered: number;
  maxLatency: number;
  /** The CSeq (1 = the first OPTIONS) of the slowest answer. */
  slowest: number;
  maxGap: number;
}

export function startPinger(host: string, port: number, everyMs: number): Promise<{ stop(): Promise<PingReport> }> {
  const worker = new Worker(PINGER, { eval: true, workerData: { host, port, everyMs } });
  return new Promise((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => resolve({
      stop: () => new Promise<PingReport>((done) => {
        worker.once('message', (r: PingReport) => {
          void worker.terminate();
          done(r);
        });
        worker.postMessage('stop');
      }),
    }));
  });
}
