'use strict';
// Loaded with `node -r bench/rss-probe.cjs bin/dr.js …` by bench/backup.ts. At exit it writes this process's
// peak resident set (VmHWM), its disk I/O counters (/proc/self/io) and CPU time (its own, and the tools it ran:
// /proc/self/stat) to $BENCH_PROBE_OUT as JSON: exact figures for the whole run, which polling from outside could
// miss at the very end. Linux only.
const fs = require('node:fs');
const out = process.env.BENCH_PROBE_OUT;
if (out) {
  process.on('exit', () => {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const io = fs.readFileSync('/proc/self/io', 'utf8');
    const field = (text, name) => Number((new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text) || [])[1]);
    // /proc/self/stat fields 14-17: utime, stime, cutime, cstime (clock ticks; children = the tools it waited for).
    const stat = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    const ticks = (i) => Number(stat[i - 3]) / 100;
    fs.writeFileSync(
      out,
      JSON.stringify({
        peakRssKb: field(status, 'VmHWM'),
        writeBytes: field(io, 'write_bytes'),
        cancelledWriteBytes: field(io, 'cancelled_write_bytes'),
        readBytes: field(io, 'read_bytes'),
        cpuSeconds: ticks(14) + ticks(15),
        childCpuSeconds: ticks(16) + ticks(17),
      }),
    );
  });
}
