'use strict';
// The article's Socket.IO instrumentation, as it describes it: a span per connection lifetime, a SERVER span
// per received event, a CLIENT span per socket.emit, join/leave spans, a span per io.to(), an active
// connection gauge, an event counter, a latency histogram and a room-size gauge per room.
const { trace, metrics, SpanStatusCode, SpanKind } = require('@opentelemetry/api');

const tracer = trace.getTracer('socketio-instrumentation', '1.0.0');
const meter = metrics.getMeter('socketio-metrics', '1.0.0');

function instrumentSocketIO(io) {
  const originalTo = io.to.bind(io);
  io.to = (...args) => tracer.startActiveSpan('socketio.to', (span) => {
    span.setAttribute('socketio.room', args[0]);
    span.end();
    return originalTo(...args);
  });

  meter.createObservableGauge('socketio.connections.active', { unit: 'connections' })
    .addCallback((result) => result.observe(io.sockets.sockets.size));
  meter.createObservableGauge('socketio.room.size', { unit: 'clients' }).addCallback((result) => {
    io.sockets.adapter.rooms.forEach((sockets, room) => {
      if (!io.sockets.sockets.has(room)) result.observe(sockets.size, { room });
    });
  });
  const events = meter.createCounter('socketio.events.total', { unit: 'events' });
  const latency = meter.createHistogram('socketio.message.latency', { unit: 'ms' });

  io.on('connection', (socket) => instrumentSocket(socket, events));
  return { recordLatency: (eventName, ms) => latency.record(ms, { 'event.name': eventName }) };
}

function instrumentSocket(socket, events) {
  const connectionSpan = tracer.startSpan('socketio.connection', {
    kind: SpanKind.SERVER,
    attributes: { 'socketio.socket.id': socket.id, 'socketio.transport': socket.conn.transport.name },
  });
  socket.on('disconnect', (reason) => {
    connectionSpan.addEvent('disconnect', { reason });
    connectionSpan.end();
  });

  const originalOn = socket.on.bind(socket);
  socket.on = (eventName, handler) => {
    if (eventName === 'disconnect' || eventName === 'error') return originalOn(eventName, handler);
    return originalOn(eventName, (...args) => tracer.startActiveSpan(`socketio.event.${eventName}`, {
      kind: SpanKind.SERVER,
      attributes: { 'socketio.event.name': eventName, 'socketio.socket.id': socket.id, 'socketio.event.args_count': args.length },
    }, async (span) => {
      events.add(1, { event: eventName });
      try {
        await handler(...args);
        span.setStatus({ code: SpanStatusCode.OK });
      } catch (error) {
        span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      } finally {
        span.end();
      }
    }));
  };

  const originalEmit = socket.emit.bind(socket);
  socket.emit = (eventName, ...args) => tracer.startActiveSpan(`socketio.emit.${eventName}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'socketio.event.name': eventName, 'socketio.emit.args_count': args.length },
  }, (span) => {
    try {
      return originalEmit(eventName, ...args);
    } finally {
      span.end();
    }
  });

  for (const operation of ['join', 'leave']) {
    const original = socket[operation].bind(socket);
    socket[operation] = (room) => tracer.startActiveSpan(`socketio.${operation}`, async (span) => {
      span.setAttribute('socketio.room', room);
      span.setAttribute('socketio.socket.id', socket.id);
      try {
        await original(room);
      } finally {
        span.end();
      }
    });
  }
}

module.exports = { instrumentSocketIO };
