'use strict';
// The peer: the article's Socket.IO chat server, written here from its description (socket.io 4.8,
// @socket.io/redis-adapter when PEER_REDIS_URL is set, its OpenTelemetry instrumentation when
// PEER_TELEMETRY=on). Events: join-room, leave-room, chat-message (broadcast to the room, acknowledged),
// private-message, room-stats. Production settings as the article gives them.
const telemetry = require('./lib/telemetry');
const { createServer } = require('node:http');
const { Server } = require('socket.io');
const { instrumentSocketIO } = require('./lib/article-instrumentation');

const port = Number(process.env.PORT || 3000);
const httpServer = createServer();
const io = new Server(httpServer, {
  pingTimeout: 10000,
  pingInterval: 5000,
  maxHttpBufferSize: 1e6,
  transports: ['websocket'],
  serveClient: false,
});
const metrics = telemetry.enabled ? instrumentSocketIO(io) : null;

// The article's connection limit and auth middleware (a token must be present; who the user is comes with it).
io.use((socket, next) => {
  if (io.sockets.sockets.size >= Number(process.env.PEER_MAX_CONNECTIONS || 10000)) return next(new Error('Connection limit reached'));
  const { token, user } = socket.handshake.auth || {};
  if (!token || !user) return next(new Error('No authentication token provided'));
  socket.data.user = String(user);
  next();
});

const usersOnThisNode = new Map();

io.on('connection', (socket) => {
  const user = socket.data.user;
  usersOnThisNode.set(user, socket.id);
  socket.on('disconnect', () => usersOnThisNode.delete(user));

  socket.on('join-room', async (room, ack) => {
    await socket.join(room);
    socket.to(room).emit('user-joined', { user, room });
    if (typeof ack === 'function') ack({ room, members: io.sockets.adapter.rooms.get(room)?.size ?? 0 });
  });

  socket.on('leave-room', async (room) => {
    await socket.leave(room);
    socket.to(room).emit('user-left', { user, room });
  });

  socket.on('chat-message', (data, ack) => {
    const started = performance.now();
    const { room, message, clientMessageId } = data || {};
    const timestamp = Date.now();
    io.to(room).emit('chat-message', { socketId: socket.id, user, room, message, clientMessageId, timestamp });
    if (typeof ack === 'function') ack({ room, timestamp });
    metrics?.recordLatency('chat-message', performance.now() - started);
  });

  socket.on('private-message', (data, ack) => {
    const target = usersOnThisNode.get(data?.to);
    if (!target) return typeof ack === 'function' && ack({ error: `User ${data?.to} not found` });
    io.to(target).emit('private-message', { from: user, message: data.message, timestamp: Date.now() });
    if (typeof ack === 'function') ack({ timestamp: Date.now() });
  });

  socket.on('room-stats', (room, ack) => {
    if (typeof ack === 'function') ack({ name: room, size: io.sockets.adapter.rooms.get(room)?.size ?? 0 });
  });
});

async function start() {
  if (process.env.PEER_REDIS_URL) {
    const { createClient } = require('redis');
    const { createAdapter } = require('@socket.io/redis-adapter');
    const pub = createClient({ url: process.env.PEER_REDIS_URL });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  httpServer.listen(port, '127.0.0.1', () => console.log(`peer listening on ${port} (telemetry ${telemetry.enabled ? 'on' : 'off'})`));
}

start().catch((error) => {
  console.error(`error: ${error.message}`);
  process.exit(1);
});
