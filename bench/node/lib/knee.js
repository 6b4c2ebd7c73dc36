'use strict';
/** The knee rule: a step passes when nothing was lost or refused and delivery p99 stayed within 50 ms. */
const passes = (row) => row.lost === 0 && row.failed === 0 && row.latencyMicros[99] <= 50_000;

module.exports = { passes };
