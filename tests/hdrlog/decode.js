// SPDX-License-Identifier: MIT
// Reads an HdrHistogram interval log with HdrHistogram.js (an implementation
// independent of ours) and prints, as JSON, every interval it decodes: tag,
// times, layout, counts by bucket ([index, count, lowest and highest
// equivalent value]) and HdrHistogram's own percentiles.
// Usage: node decode.js LOG  (run by tests/integration/test_hdr_log.py)
"use strict";
const fs = require("fs");
const hdr = require("hdr-histogram-js");

const reader = new hdr.HistogramLogReader(fs.readFileSync(process.argv[2], "utf8"), 64);
const intervals = [];
for (let h; (h = reader.nextIntervalHistogram()) !== null; ) {
  const buckets = [];
  for (let i = 0; i < h.countsArrayLength; i++) {
    const c = h.getCountAtIndex(i);
    if (c) {
      const v = h.valueFromIndex(i);
      buckets.push([i, c, h.lowestEquivalentValue(v), h.highestEquivalentValue(v)]);
    }
  }
  const percentiles = {};
  for (const p of [50, 90, 99, 99.9, 99.99, 100]) percentiles[p] = h.getValueAtPercentile(p);
  intervals.push({
    tag: h.tag,
    startMs: h.startTimeStampMsec,
    endMs: h.endTimeStampMsec,
    lowest: h.lowestDiscernibleValue,
    highest: h.highestTrackableValue,
    digits: h.numberOfSignificantValueDigits,
    countsLength: h.countsArrayLength,
    total: h.totalCount,
    min: h.minNonZeroValue,
    max: h.maxValue,
    mean: h.mean,
    percentiles,
    buckets,
  });
}
process.stdout.write(JSON.stringify(intervals) + "\n");
