// Loaded into the drained processor with `--import` (bench/support.ts): samples process.memoryUsage() every
// 100 ms and, at exit, writes to PRISMO_MEMORY_PROBE the sample of highest RSS and each field's own peak,
// in MiB, so the drain says where a processor's memory went (heap, external, array buffers).
import { writeFileSync } from 'node:fs';

const file = process.env.PRISMO_MEMORY_PROBE;
if (file) {
  const fields = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'];
  const mib = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
  const peaks = Object.fromEntries(fields.map((field) => [field, 0]));
  let atPeakRss = process.memoryUsage();
  const sample = () => {
    const usage = process.memoryUsage();
    for (const field of fields) peaks[field] = Math.max(peaks[field], usage[field]);
    if (usage.rss >= atPeakRss.rss) atPeakRss = usage;
  };
  setInterval(sample, 100).unref();
  process.on('exit', () => {
    sample();
    const convert = (usage) => Object.fromEntries(fields.map((field) => [field, mib(usage[field])]));
    writeFileSync(file, JSON.stringify({ atPeakRss: convert(atPeakRss), peaks: convert(peaks) }));
  });
}
