// An adapter for the peer benchmark's worker that wraps another one (SLICE_OF=<adapter file>) and measures its
// consume() call 10,240 events at a time: the wall time and the minor page faults of each slice, printed to stderr as
//   SLICES <ms of slice 1> <ms of slice 2> ...      FAULTS <faults of slice 1> ...
// (the last slice holds the remaining events and the consume() call's own end). The wrapper's own cost is one
// function call and a counter per event, the same for every wrapped row. Used by slice-ab.mjs.
// PERF_CTL=<fifo>: writes "enable"/"disable" to a `perf record --control=fifo:<fifo> -D -1` control fifo around the
// consume() call (PERF_FIRST=1: only around the first slice), so that perf samples the timed region alone.
import fs from 'node:fs';

const SLICE = 10_240;
const inner = (await import(process.env.SLICE_OF)).default;
const faults = () => process.resourceUsage().minorPageFault;

export default {
  ...inner,
  name: `${inner.name}+slices`,
  async open(ctx) {
    const store = await inner.open(ctx);
    return {
      produce: (batches) => store.produce(batches),
      close: () => store.close(),
      async consume(sel, sink) {
        const ctl = process.env.PERF_CTL ? fs.openSync(process.env.PERF_CTL, 'w') : -1;
        const perf = (cmd) => ctl >= 0 && fs.writeSync(ctl, `${cmd}\n`);
        const times = [performance.now()];
        const counts = [faults()];
        let seen = 0;
        const counted = (meta, data) => {
          sink(meta, data);
          if (++seen % SLICE === 0) {
            if (seen === SLICE && process.env.PERF_FIRST) perf('disable');
            times.push(performance.now());
            counts.push(faults());
          }
        };
        perf('enable');
        await store.consume(sel, counted);
        perf('disable');
        times.push(performance.now());
        counts.push(faults());
        const steps = (xs, digits) => xs.slice(1).map((x, i) => (x - xs[i]).toFixed(digits)).join(' ');
        console.error(`SLICES ${steps(times, 1)}`);
        console.error(`FAULTS ${steps(counts, 0)}`);
        if (ctl >= 0) fs.closeSync(ctl);
      },
    };
  },
};
