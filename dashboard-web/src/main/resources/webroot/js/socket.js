// The WebSocket to the agent: reconnects by itself (0.5 s doubling to 5 s), and turns commands into
// promises answered by the server's "result" messages.

export class AgentSocket {
  constructor(onMessage, onState) {
    this.onMessage = onMessage;
    this.onState = onState;
    this.pending = new Map();
    this.nextId = 1;
    this.delay = 500;
    this.connect();
  }

  connect() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws';
    this.onState('connecting', 'connecting…');
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.onState('live', 'live');
    };
    ws.onmessage = ev => {
      const msg = JSON.parse(ev.data);
      if (msg.type === 'result' && this.pending.has(msg.id)) {
        this.pending.get(msg.id)(msg);
        this.pending.delete(msg.id);
        return;
      }
      this.onMessage(msg);
    };
    ws.onclose = () => {
      for (const resolve of this.pending.values()) resolve({ ok: false, status: 0, message: 'connection lost' });
      this.pending.clear();
      const wait = this.delay;
      this.delay = Math.min(5000, this.delay * 2);
      this.onState('down', 'agent unreachable – reconnecting in ' + Math.round(wait / 100) / 10 + ' s');
      setTimeout(() => this.connect(), wait);
    };
  }

  /** Sends a message and resolves with the server's result (or a failure when disconnected). */
  request(msg) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      return Promise.resolve({ ok: false, status: 0, message: 'not connected to the agent' });
    }
    const id = this.nextId++;
    return new Promise(resolve => {
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ ...msg, id }));
    });
  }
}
