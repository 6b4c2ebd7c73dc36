'use strict';
// Small SVG charts (lines and horizontal bars) rendered to PNG by headless Chromium, so the report needs
// no plotting package. Axes are labelled; colours are assigned per series in order.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const WIDTH = 1000;
const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;');
const niceMax = (value) => {
  const power = 10 ** Math.floor(Math.log10(value || 1));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((candidate) => candidate >= value) ?? value;
};

/** series: [{ name, points: [[x, y], ...] }]; x values pass through xScale (e.g. the nines of a CDF). */
function lineChart({ title, xLabel, yLabel, series, xTicks, xScale = (x) => x, logY = false, height = 480 }) {
  const left = 80; const right = 330; const top = 50; const bottom = 60;
  const plotWidth = WIDTH - left - right; const plotHeight = height - top - bottom;
  const xs = series.flatMap((s) => s.points.map(([x]) => xScale(x)));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y)).filter((y) => y > 0);
  const xMin = Math.min(...xs); const xMax = Math.max(...xs);
  const yMin = logY ? 10 ** Math.floor(Math.log10(Math.min(...ys))) : 0;
  const yMax = logY ? 10 ** Math.ceil(Math.log10(Math.max(...ys))) : niceMax(Math.max(...ys));
  const px = (x) => left + ((xScale(x) - xMin) / (xMax - xMin || 1)) * plotWidth;
  const py = (y) => top + plotHeight - (logY
    ? ((Math.log10(Math.max(y, yMin)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotHeight
    : (y / yMax) * plotHeight);
  const yTicks = logY
    ? Array.from({ length: Math.log10(yMax / yMin) + 1 }, (_, i) => yMin * 10 ** i)
    : Array.from({ length: 6 }, (_, i) => (yMax / 5) * i);
  const parts = [
    `<text x="${WIDTH / 2 - right / 2}" y="28" text-anchor="middle" font-size="18" font-weight="bold">${escape(title)}</text>`,
    `<rect x="${left}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#444"/>`,
    ...yTicks.map((y) => `<line x1="${left}" x2="${left + plotWidth}" y1="${py(y)}" y2="${py(y)}" stroke="#ddd"/><text x="${left - 6}" y="${py(y) + 4}" text-anchor="end" font-size="12">${+y.toPrecision(3)}</text>`),
    ...(xTicks ?? []).filter(([x]) => xScale(x) >= xMin && xScale(x) <= xMax).map(([x, label]) => `<line x1="${px(x)}" x2="${px(x)}" y1="${top}" y2="${top + plotHeight}" stroke="#eee"/><text x="${px(x)}" y="${top + plotHeight + 18}" text-anchor="middle" font-size="12">${escape(label)}</text>`),
    `<text x="${left + plotWidth / 2}" y="${height - 15}" text-anchor="middle" font-size="14">${escape(xLabel)}</text>`,
    `<text transform="translate(20 ${top + plotHeight / 2}) rotate(-90)" text-anchor="middle" font-size="14">${escape(yLabel)}</text>`,
  ];
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2.5" points="${s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`);
    s.points.forEach(([x, y]) => parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${colour}"/>`));
    parts.push(`<rect x="${WIDTH - right + 15}" y="${top + i * 22}" width="14" height="14" fill="${colour}"/><text x="${WIDTH - right + 35}" y="${top + i * 22 + 12}" font-size="12">${escape(s.name)}</text>`);
  });
  return svg(height, parts);
}

/** bars: [{ name, value, note }] drawn horizontally with their values. */
function barChart({ title, xLabel, bars }) {
  const left = 330; const top = 50; const rowHeight = 30;
  const height = top + bars.length * rowHeight + 60;
  const max = niceMax(Math.max(...bars.map((b) => b.value)));
  // As wide as lets every bar's note end inside the picture (13 px text: ~7 px a character), a long note on the
  // longest bar included.
  const noteWidth = (bar) => 6 + 7 * (bar.note ?? bar.value.toFixed(1)).length;
  const plotWidth = Math.min(WIDTH - left - 220, ...bars.filter((bar) => bar.value > 0)
    .map((bar) => (WIDTH - 10 - left - noteWidth(bar)) / (bar.value / max)));
  const parts = [`<text x="${WIDTH / 2}" y="28" text-anchor="middle" font-size="18" font-weight="bold">${escape(title)}</text>`];
  bars.forEach((bar, i) => {
    const y = top + i * rowHeight;
    const width = (bar.value / max) * plotWidth;
    parts.push(`<text x="${left - 8}" y="${y + 19}" text-anchor="end" font-size="13">${escape(bar.name)}</text>`,
      `<rect x="${left}" y="${y + 5}" width="${width.toFixed(1)}" height="${rowHeight - 10}" fill="${COLOURS[i % COLOURS.length]}"/>`,
      `<text x="${left + width + 6}" y="${y + 19}" font-size="13">${escape(bar.note ?? bar.value.toFixed(1))}</text>`);
  });
  parts.push(`<text x="${left + plotWidth / 2}" y="${height - 15}" text-anchor="middle" font-size="14">${escape(xLabel)}</text>`);
  return svg(height, parts);
}

function svg(height, parts) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="Liberation Sans, Arial, sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>`;
}

/** Writes the SVG and a PNG of it (headless Chromium); returns the PNG's path, or the SVG's without a browser. */
function render(svgText, file) {
  fs.writeFileSync(`${file}.svg`, svgText);
  const height = Number(/height="(\d+)"/.exec(svgText)[1]);
  const browser = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((candidate) => fs.existsSync(candidate));
  if (!browser) return `${file}.svg`;
  execFileSync(browser, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', `--window-size=${WIDTH},${height}`, `--screenshot=${file}.png`, `file://${file}.svg`],
  { stdio: 'ignore', timeout: 60000 });
  fs.rmSync(`${file}.svg`);
  return `${file}.png`;
}

module.exports = { lineChart, barChart, render };
