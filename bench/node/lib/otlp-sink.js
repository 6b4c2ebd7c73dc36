'use strict';
// An OTLP/HTTP endpoint that accepts and discards everything, so both servers pay their full export cost
// without a dashboard in the measurement. It counts requests, bytes and spans (protobuf or JSON) so the
// report can tell whether an exporter dropped spans.
const { createServer } = require('node:http');

function countProtobufSpans(buffer) {
  // ExportTraceServiceRequest: 1 resource_spans { 2 scope_spans { 2 span } }. Only lengths are read.
  let spans = 0;
  const walk = (start, end, depth) => {
    let offset = start;
    while (offset < end) {
      let key = 0; let shift = 0; let byte;
      do { byte = buffer[offset++]; key |= (byte & 0x7f) << shift; shift += 7; } while (byte & 0x80);
      const field = key >>> 3; const wire = key & 7;
      if (wire === 2) {
        let length = 0; shift = 0;
        do { byte = buffer[offset++]; length += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
        if (depth === 0 && field === 1) walk(offset, offset + length, 1);
        else if (depth === 1 && field === 2) walk(offset, offset + length, 2);
        else if (depth === 2 && field === 2) spans++;
        offset += length;
      } else if (wire === 0) { while (buffer[offset++] & 0x80); }
      else if (wire === 1) offset += 8;
      else if (wire === 5) offset += 4;
      else return;
    }
  };
  walk(0, buffer.length, 0);
  return spans;
}

function startSink(port) {
  const totals = { requests: 0, bytes: 0, spans: 0 };
  const server = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      totals.requests++;
      totals.bytes += body.length;
      const json = (request.headers['content-type'] || '').includes('json');
      if (request.url.endsWith('/v1/traces')) {
        totals.spans += json ? (body.toString().match(/"spanId"/g) || []).length : countProtobufSpans(body);
      }
      response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      response.end(json ? '{}' : undefined);
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    endpoint: `http://127.0.0.1:${server.address().port}`,
    totals,
    close: () => new Promise((done) => { server.closeAllConnections(); server.close(done); }),
  })));
}

module.exports = { startSink, countProtobufSpans };
