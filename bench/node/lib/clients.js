'use strict';
// Chat clients for both servers behind one shape: connect(), join(room), send(room, id, text), close(),
// and onMessage(text) for every room message received. "raw" clients speak the wire protocols directly over
// `ws` (the official clients spend so much generator CPU that they cannot find a server's limits); "official"
// ones use socket.io-client and @microsoft/signalr, and keep the raw ones honest in the smoke run.
const WebSocket = require('ws');

const RECORD_SEPARATOR = '\x1e';

/** What both raw clients share: calls awaiting their reply, by id, all failed when the connection goes. */
class RawClient {
  constructor(onMessage) {
    this.onMessage = onMessage;
    this.pending = new Map();
    this.nextId = 1;
  }

  /** Sends a call through send(id) and resolves with the reply settle(id, …) later gives it. */
  call(send) {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      send(id);
    });
  }

  settle(id, error, result) {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (error) pending?.reject(error);
    else pending?.resolve(result);
  }

  fail(error) {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

class RawSignalRClient extends RawClient {
  constructor(baseUrl, token, onMessage) {
    super(onMessage);
    this.url = `${baseUrl.replace(/^http/, 'ws')}/hubs/chat?access_token=${encodeURIComponent(token)}`;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false });
      this.ws = ws;
      let handshaken = false;
      ws.on('open', () => ws.send(`{"protocol":"json","version":1}${RECORD_SEPARATOR}`));
      ws.on('error', (error) => (handshaken ? this.fail(error) : reject(error)));
      ws.on('close', (code, reason) => {
        if (!handshaken) reject(new Error(`closed during handshake: ${code} ${reason}`));
        this.fail(new Error(`connection closed: ${code} ${reason}`));
      });
      ws.on('message', (data) => {
        for (const record of data.toString().split(RECORD_SEPARATOR)) {
          if (!record) continue;
          if (!handshaken) {
            handshaken = true;
            if (record !== '{}') return reject(new Error(`handshake refused: ${record}`));
            // The server drops a client it has not heard from in 30 s.
            this.keepAlive = setInterval(() => this.write('{"type":6}'), 10000 + Math.random() * 4000);
            resolve();
            continue;
          }
          this.receive(record);
        }
      });
    });
  }

  receive(record) {
    if (record.startsWith('{"type":1,') && record.includes('"target":"MessageReceived"')) {
      const start = record.indexOf('"text":"') + 8;
      this.onMessage(record.slice(start, record.indexOf('"', start)));
    } else if (record.startsWith('{"type":3,')) {
      const message = JSON.parse(record);
      this.settle(message.invocationId, message.error ? new Error(message.error) : null, message.result);
    } else if (record.startsWith('{"type":7')) {
      this.fail(new Error(`server closed the connection: ${record}`));
    }
  }

  invoke(target, args) {
    return this.call((invocationId) => this.write(JSON.stringify({ type: 1, invocationId, target, arguments: args })));
  }

  write(record) {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(record + RECORD_SEPARATOR);
  }

  join(room) { return this.invoke('JoinRoom', [room]); }

  send(room, clientMessageId, text) { return this.invoke('SendMessage', [room, clientMessageId, text]); }

  close() {
    clearInterval(this.keepAlive);
    this.ws?.terminate();
  }
}

class RawSocketIoClient extends RawClient {
  constructor(baseUrl, user, onMessage) {
    super(onMessage);
    this.url = `${baseUrl.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
    this.user = user;
  }

  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false });
      this.ws = ws;
      let connected = false;
      ws.on('error', (error) => (connected ? this.fail(error) : reject(error)));
      ws.on('close', (code) => {
        if (!connected) reject(new Error(`closed during connect: ${code}`));
        this.fail(new Error(`connection closed: ${code}`));
      });
      ws.on('message', (data) => {
        const frame = data.toString();
        switch (frame[0]) {
          case '0': ws.send(`40${JSON.stringify({ token: 'bench', user: this.user })}`); break;
          case '2': ws.send('3'); break;
          case '4':
            if (frame[1] === '0') { connected = true; resolve(); } else if (frame[1] === '4') reject(new Error(`refused: ${frame}`));
            else this.receive(frame);
            break;
          default: break;
        }
      });
    });
  }

  receive(frame) {
    if (frame[1] === '2' && frame.startsWith('42["chat-message"')) {
      const start = frame.indexOf('"message":"') + 11;
      this.onMessage(frame.slice(start, frame.indexOf('"', start)));
    } else if (frame[1] === '3') {
      const bracket = frame.indexOf('[');
      this.settle(frame.slice(2, bracket), null, JSON.parse(frame.slice(bracket))[0]);
    }
  }

  emit(event, payload) {
    return this.call((id) => this.ws.readyState === WebSocket.OPEN && this.ws.send(`42${id}${JSON.stringify([event, payload])}`));
  }

  join(room) { return this.emit('join-room', room); }

  send(room, clientMessageId, text) { return this.emit('chat-message', { room, message: text, clientMessageId }); }

  close() { this.ws?.terminate(); }
}

class OfficialSignalRClient {
  constructor(baseUrl, token, onMessage) {
    const signalR = require('@microsoft/signalr');
    this.connection = new signalR.HubConnectionBuilder()
      .withUrl(`${baseUrl}/hubs/chat`, { accessTokenFactory: () => token, skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
      .configureLogging(signalR.LogLevel.Error)
      .build();
    this.connection.on('MessageReceived', (message) => onMessage(message.text));
  }

  connect() { return this.connection.start(); }

  join(room) { return this.connection.invoke('JoinRoom', room); }

  send(room, clientMessageId, text) { return this.connection.invoke('SendMessage', room, clientMessageId, text); }

  close() { return this.connection.stop(); }
}

class OfficialSocketIoClient {
  constructor(baseUrl, user, onMessage) {
    const { io } = require('socket.io-client');
    this.socket = io(baseUrl, { transports: ['websocket'], auth: { token: 'bench', user }, autoConnect: false, reconnection: false });
    this.socket.on('chat-message', (message) => onMessage(message.message));
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.socket.once('connect', resolve);
      this.socket.once('connect_error', reject);
      this.socket.connect();
    });
  }

  join(room) { return this.socket.emitWithAck('join-room', room); }

  send(room, clientMessageId, text) { return this.socket.emitWithAck('chat-message', { room, message: text, clientMessageId }); }

  close() { this.socket.close(); }
}

/** Makes a client of the given protocol ('signalr' | 'socketio') and kind ('raw' | 'official'). */
function createClient({ protocol, kind, baseUrl, user, token, onMessage }) {
  if (protocol === 'signalr') {
    return kind === 'official' ? new OfficialSignalRClient(baseUrl, token, onMessage) : new RawSignalRClient(baseUrl, token, onMessage);
  }
  return kind === 'official' ? new OfficialSocketIoClient(baseUrl, user, onMessage) : new RawSocketIoClient(baseUrl, user, onMessage);
}

module.exports = { createClient };
