/*!
 * Kefu web chat widget — plain JavaScript, no build step, no dependencies.
 *
 * Embed:
 *   <script src="https://kefu.example.com/widget.js"
 *           data-server="https://kefu.example.com"   (default: the page's origin)
 *           data-transport="sse"                      (sse | ws; default sse)
 *           data-lang="zh"></script>                  (zh | en UI; default: navigator.language)
 * creates a floating chat panel. Optional attributes: data-tenant, data-api-key (or data-token),
 * data-bot-language (zh | en: force the assistant's language), data-open="false" (start
 * collapsed), data-title, data-mount="false" (load only; call Kefu.mount yourself).
 *
 * Or mount it inline: Kefu.mount(element, {server, transport, lang, tenant, apiKey, ...}).
 *
 * Transports: replies stream over `POST /v1/conversations/{id}/messages` read as Server-Sent
 * Events (sse), or over one WebSocket `/v1/ws` (ws). Human agents' messages always arrive over
 * `GET /v1/conversations/{id}/stream` (EventSource), the one source for them in both modes so
 * that none is shown twice and none is missed after a reconnect.
 *
 * Every server text is rendered with textContent, never as HTML.
 */
(function (global) {
  'use strict';

  var doc = global.document;
  if (!doc) return;
  if (global.Kefu && global.Kefu.__kefuWidget) return; // loaded twice: keep the first

  var VERSION = '0.1.0';

  var STRINGS = {
    zh: {
      title: '在线客服 · 小客',
      logLabel: '聊天记录',
      inputLabel: '输入您的消息',
      placeholder: '请输入您的问题，例如「查物流」「我要退货」…',
      send: '发送',
      newConversation: '新对话',
      newConversationLabel: '开始新的对话',
      collapse: '收起聊天窗口',
      expand: '打开在线客服',
      quickReplies: '快捷回复',
      you: '我',
      bot: '客服助手',
      agent: '人工客服',
      welcome: '您好！我是小客，可以帮您查物流、办理退货、查询退款。请问有什么可以帮您？',
      typing: '小客正在输入…',
      connecting: '正在连接…',
      online: '已连接',
      reconnecting: '连接已断开，正在重连…',
      offline: '未连接',
      handoff: '已转接人工客服',
      error: '抱歉，消息没有发送成功，请稍后再试。',
      errorCode: '错误代码',
      newConversationStarted: '已开始新的对话。'
    },
    en: {
      title: 'Customer service · Xiaoke',
      logLabel: 'Conversation',
      inputLabel: 'Type your message',
      placeholder: 'Ask a question, e.g. "track my order" or "return an item"…',
      send: 'Send',
      newConversation: 'New chat',
      newConversationLabel: 'Start a new conversation',
      collapse: 'Minimise the chat',
      expand: 'Open customer service chat',
      quickReplies: 'Quick replies',
      you: 'You',
      bot: 'Assistant',
      agent: 'Agent',
      welcome: "Hi! I'm Xiaoke. I can track orders, handle returns and check refunds. How can I help?",
      typing: 'Xiaoke is typing…',
      connecting: 'Connecting…',
      online: 'Connected',
      reconnecting: 'Connection lost, reconnecting…',
      offline: 'Offline',
      handoff: 'Connected to a human agent',
      error: "Sorry, your message couldn't be sent. Please try again.",
      errorCode: 'error code',
      newConversationStarted: 'New conversation started.'
    }
  };

  var CSS = [
    '.kefu{box-sizing:border-box;display:flex;flex-direction:column;width:100%;height:100%;min-height:320px;',
    'font:14px/1.45 system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;color:#1f2933;',
    'background:#fff;border:1px solid #d5dae1;border-radius:12px;overflow:hidden}',
    '.kefu *,.kefu *::before,.kefu *::after{box-sizing:border-box}',
    '.kefu-floating{position:fixed;right:20px;bottom:20px;width:min(380px,calc(100vw - 24px));',
    'height:min(560px,calc(100vh - 40px));z-index:2147483000;box-shadow:0 10px 30px rgba(0,0,0,.18)}',
    '.kefu-floating.kefu-collapsed{height:auto;min-height:0;width:auto}',
    '.kefu-collapsed .kefu-body{display:none}',
    '.kefu-header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:#1463ff;color:#fff}',
    '.kefu-title{flex:1;margin:0;font-size:15px;font-weight:600}',
    '.kefu-status{font-size:12px;opacity:.9;white-space:nowrap}',
    '.kefu-status::before{content:"";display:inline-block;width:8px;height:8px;margin-right:5px;border-radius:50%;background:#f5b400}',
    '.kefu-status[data-state=online]::before{background:#3ddc84}',
    '.kefu-status[data-state=offline]::before{background:#ff5c5c}',
    '.kefu-header button{font:inherit;font-size:12px;color:#fff;background:rgba(255,255,255,.18);',
    'border:1px solid rgba(255,255,255,.45);border-radius:6px;padding:3px 8px;cursor:pointer}',
    '.kefu-header button:hover{background:rgba(255,255,255,.3)}',
    '.kefu-body{flex:1;display:flex;flex-direction:column;min-height:0}',
    '.kefu-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f8fb}',
    '.kefu-msg{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}',
    '.kefu-msg-bot{align-self:flex-start;background:#fff;border:1px solid #e1e6ec;border-top-left-radius:4px}',
    '.kefu-msg-user{align-self:flex-end;background:#1463ff;color:#fff;border-top-right-radius:4px}',
    '.kefu-msg-agent{align-self:flex-start;background:#e9f8ef;border:1px solid #7fd19b;border-top-left-radius:4px}',
    '.kefu-msg-error{align-self:center;background:#fff1f0;border:1px solid #ffb3ad;color:#a8071a;font-size:13px}',
    '.kefu-notice{align-self:center;color:#607080;font-size:12px;text-align:center;max-width:90%}',
    '.kefu-who{display:block;font-size:11px;font-weight:600;color:#1a7f43;margin-bottom:2px}',
    '.kefu-sr{position:absolute!important;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}',
    '.kefu-quick{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}',
    '.kefu-quick button{font:inherit;font-size:13px;color:#1463ff;background:#fff;border:1px solid #1463ff;',
    'border-radius:14px;padding:3px 10px;cursor:pointer}',
    '.kefu-quick button:hover:not(:disabled){background:#eef3ff}',
    '.kefu-quick button:disabled{color:#8a96a3;border-color:#c8d0d9;cursor:default}',
    '.kefu-typing{padding:0 12px 6px;font-size:12px;color:#607080;background:#f6f8fb;min-height:1.45em}',
    '.kefu-form{display:flex;gap:8px;padding:10px;border-top:1px solid #e1e6ec;background:#fff}',
    '.kefu-input{flex:1;min-width:0;font:inherit;padding:8px 10px;border:1px solid #c8d0d9;border-radius:8px}',
    '.kefu-input:focus,.kefu button:focus-visible{outline:2px solid #1463ff;outline-offset:1px}',
    '.kefu-send{font:inherit;color:#fff;background:#1463ff;border:0;border-radius:8px;padding:8px 14px;cursor:pointer}',
    '.kefu-send:hover{background:#0f4fcc}',
    '.kefu[data-handoff=true] .kefu-header{background:#148a4b}'
  ].join('');

  // ---- small helpers ---------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = doc.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, k) && attrs[k] != null) node.setAttribute(k, attrs[k]);
      }
    }
    if (text != null) node.textContent = String(text);
    return node;
  }

  function injectCss() {
    if (doc.getElementById('kefu-widget-style')) return;
    var style = el('style', { id: 'kefu-widget-style' });
    style.textContent = CSS;
    (doc.head || doc.documentElement).appendChild(style);
  }

  function randomId(prefix) {
    var c = global.crypto;
    if (c && typeof c.randomUUID === 'function') return prefix + c.randomUUID();
    var bytes = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(bytes);
    else for (var i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
    return prefix + Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  function pickLang(lang) {
    var l = String(lang || '').toLowerCase();
    if (!l) l = String((global.navigator && (global.navigator.language || '')) || '').toLowerCase();
    return l.indexOf('zh') === 0 ? 'zh' : 'en';
  }

  function storage() {
    try {
      var s = global.localStorage;
      var probe = '__kefu_probe__';
      s.setItem(probe, '1');
      s.removeItem(probe);
      return s;
    } catch (e) {
      return null; // private mode, sandboxed iframe: keep the id in memory only
    }
  }

  function backoff(attempt) {
    // 0.5 s, 1 s, 2 s, 4 s … capped at 15 s, with ±25 % jitter
    var base = Math.min(15000, 500 * Math.pow(2, attempt));
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // Parses a Server-Sent Events byte stream (the response of a fetch), calling
  // onEvent(name, data) per event. Resolves when the stream ends.
  async function readEventStream(body, onEvent) {
    var reader = body.getReader();
    var decoder = new TextDecoder('utf-8');
    var buffer = '';
    var name = '';
    var data = [];
    function line(l) {
      if (l === '') {
        if (data.length) onEvent(name || 'message', data.join('\n'));
        name = '';
        data = [];
        return;
      }
      if (l.charAt(0) === ':') return; // comment / keep-alive
      var colon = l.indexOf(':');
      var field = colon < 0 ? l : l.slice(0, colon);
      var value = colon < 0 ? '' : l.slice(colon + 1);
      if (value.charAt(0) === ' ') value = value.slice(1);
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
      // `id` and `retry` are not used by this widget
    }
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var m;
      // split on CRLF, LF or CR, keeping an incomplete last line (and a lone trailing CR) buffered
      while ((m = /\r\n|\n|\r(?=[^\n])/.exec(buffer))) {
        line(buffer.slice(0, m.index));
        buffer = buffer.slice(m.index + m[0].length);
      }
    }
    buffer += decoder.decode();
    if (buffer) {
      buffer.split(/\r\n|\n|\r/).forEach(line);
    }
    line('');
  }

  // ---- the widget ------------------------------------------------------------------------

  function Widget(container, options) {
    var o = options || {};
    this.container = container;
    this.server = String(o.server == null ? '' : o.server).replace(/\/+$/, '');
    this.transport = String(o.transport || 'sse').toLowerCase() === 'ws' ? 'ws' : 'sse';
    this.lang = pickLang(o.lang);
    this.t = STRINGS[this.lang];
    this.botLanguage = o.botLanguage === 'zh' || o.botLanguage === 'en' ? o.botLanguage : null;
    this.tenant = o.tenant || null;
    this.apiKey = o.apiKey || o.token || null; // an API key or a JWT: Bearer header / api_key query
    this.channel = o.channel || 'web';
    this.floating = !!o.floating;
    this.restoreHistory = o.restoreHistory !== false;
    this.storageKey = o.storageKey || 'kefu:conversation:' + (this.server || global.location.origin) + ':' + (this.tenant || 'default');
    this.store = storage();

    this.generation = 0; // bumped by newConversation(): late replies of the old one are dropped
    this.turns = []; // unfinished turns, oldest first
    this.chain = Promise.resolve(); // SSE turns run one after the other
    this.agentCount = 0;
    this.destroyed = false;

    this._socket = null;
    this.wsAttempt = 0;
    this.wsTimer = null;
    this.stream = null;
    this.streamAttempt = 0;
    this.streamTimer = null;
    this.streamOpen = false;

    this.build(o);
    var stored = this.store && this.store.getItem(this.storageKey);
    this.conversationId = stored || randomId('web-');
    if (!stored) this.saveId();

    var self = this;
    this.onOnline = function () { self.reconnectNow(); };
    global.addEventListener('online', this.onOnline);

    if (stored && this.restoreHistory) this.restore(this.generation);
    this.openStream();
    if (this.transport === 'ws') this.openSocket();
    this.updateStatus();
  }

  Widget.prototype.build = function (o) {
    var t = this.t;
    var uid = randomId('kefu-').slice(0, 18);
    injectCss();
    var root = el('section', {
      class: 'kefu' + (this.floating ? ' kefu-floating' : ''),
      lang: this.lang === 'zh' ? 'zh-CN' : 'en',
      'aria-labelledby': uid + '-title',
      'data-kefu': 'widget',
      'data-transport': this.transport
    });
    var header = el('div', { class: 'kefu-header' });
    header.appendChild(el('h2', { class: 'kefu-title', id: uid + '-title' }, o.title || t.title));
    this.statusEl = el('span', { class: 'kefu-status', role: 'status', 'aria-live': 'polite', 'data-kefu': 'status', 'data-state': 'connecting' }, t.connecting);
    header.appendChild(this.statusEl);
    this.newBtn = el('button', { type: 'button', 'data-kefu': 'new', 'aria-label': t.newConversationLabel, title: t.newConversationLabel }, t.newConversation);
    header.appendChild(this.newBtn);
    if (this.floating) {
      this.toggleBtn = el('button', { type: 'button', 'data-kefu': 'toggle', 'aria-expanded': 'true', 'aria-label': t.collapse }, '–');
      header.appendChild(this.toggleBtn);
    }
    root.appendChild(header);

    var body = el('div', { class: 'kefu-body', id: uid + '-body' });
    this.logEl = el('div', { class: 'kefu-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions text', 'aria-label': t.logLabel, tabindex: '0', 'data-kefu': 'log' });
    body.appendChild(this.logEl);
    this.typingEl = el('div', { class: 'kefu-typing', 'aria-hidden': 'true', 'data-kefu': 'typing' });
    body.appendChild(this.typingEl);

    var form = el('form', { class: 'kefu-form', 'data-kefu': 'form' });
    form.appendChild(el('label', { class: 'kefu-sr', for: uid + '-input' }, t.inputLabel));
    this.inputEl = el('input', {
      class: 'kefu-input', id: uid + '-input', type: 'text', autocomplete: 'off', maxlength: '2000',
      placeholder: t.placeholder, enterkeyhint: 'send', 'data-kefu': 'input'
    });
    form.appendChild(this.inputEl);
    this.sendBtn = el('button', { class: 'kefu-send', type: 'submit', 'data-kefu': 'send' }, t.send);
    form.appendChild(this.sendBtn);
    body.appendChild(form);
    root.appendChild(body);
    if (this.toggleBtn) this.toggleBtn.setAttribute('aria-controls', body.id);

    var self = this;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var text = self.inputEl.value.trim();
      if (!text) return;
      self.inputEl.value = '';
      self.send(text);
    });
    this.newBtn.addEventListener('click', function () { self.newConversation(); });
    if (this.toggleBtn) {
      this.toggleBtn.addEventListener('click', function () { self.setOpen(root.classList.contains('kefu-collapsed')); });
    }

    this.root = root;
    this.container.appendChild(root);
    this.addNotice(t.welcome);
    this.updateTyping();
    if (this.floating && o.open === false) this.setOpen(false);
  };

  Widget.prototype.setOpen = function (open) {
    if (!this.toggleBtn) return;
    this.root.classList.toggle('kefu-collapsed', !open);
    this.toggleBtn.setAttribute('aria-expanded', String(open));
    this.toggleBtn.setAttribute('aria-label', open ? this.t.collapse : this.t.expand);
    this.toggleBtn.textContent = open ? '–' : '💬';
    if (open) this.inputEl.focus();
  };

  Widget.prototype.saveId = function () {
    if (this.store) {
      try { this.store.setItem(this.storageKey, this.conversationId); } catch (e) { /* quota: keep it in memory */ }
    }
  };

  // ---- URLs and auth -----------------------------------------------------------------

  Widget.prototype.url = function (path, query) {
    var base = this.server || global.location.origin;
    var u = new URL(base + path, global.location.href);
    if (query) {
      if (this.tenant) u.searchParams.set('tenant', this.tenant);
      if (this.apiKey) u.searchParams.set('api_key', this.apiKey);
    }
    return u;
  };

  Widget.prototype.headers = function (extra) {
    var h = { 'content-type': 'application/json' };
    if (this.tenant) h['x-kefu-tenant'] = this.tenant;
    if (this.apiKey) h.authorization = 'Bearer ' + this.apiKey;
    for (var k in extra) h[k] = extra[k];
    return h;
  };

  // ---- rendering -----------------------------------------------------------------------

  Widget.prototype.scroll = function () {
    this.logEl.scrollTop = this.logEl.scrollHeight;
  };

  Widget.prototype.bubble = function (kind, text, before) {
    var who = kind === 'user' ? this.t.you : kind === 'agent' ? this.t.agent : this.t.bot;
    var node = el('div', { class: 'kefu-msg kefu-msg-' + kind, 'data-kefu': kind });
    var label = el('span', { class: kind === 'agent' ? 'kefu-who' : 'kefu-sr' }, who);
    node.appendChild(label);
    if (kind !== 'agent') label.textContent = who + ': ';
    var body = el('span', { class: 'kefu-text', 'data-kefu': 'text' }, text || '');
    node.appendChild(body);
    if (before) this.logEl.insertBefore(node, before);
    else this.logEl.appendChild(node);
    this.scroll();
    return node;
  };

  Widget.prototype.setBubbleText = function (node, text) {
    node.querySelector('[data-kefu=text]').textContent = text;
  };

  Widget.prototype.appendBubbleText = function (node, text) {
    node.querySelector('[data-kefu=text]').textContent += text;
  };

  Widget.prototype.setButtons = function (node, buttons) {
    var old = node.querySelector('.kefu-quick');
    if (old) old.remove();
    if (!buttons || !buttons.length) return;
    var group = el('div', { class: 'kefu-quick', role: 'group', 'aria-label': this.t.quickReplies });
    var self = this;
    buttons.forEach(function (b) {
      if (!b || typeof b.title !== 'string') return;
      var btn = el('button', { type: 'button', 'data-kefu': 'quick-reply', 'data-payload': String(b.payload == null ? b.title : b.payload) }, b.title);
      btn.addEventListener('click', function () {
        self.send(String(b.payload == null ? b.title : b.payload), b.title);
        self.inputEl.focus();
      });
      group.appendChild(btn);
    });
    node.appendChild(group);
    this.scroll();
  };

  Widget.prototype.disableQuickReplies = function () {
    var buttons = this.logEl.querySelectorAll('[data-kefu=quick-reply]');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
  };

  Widget.prototype.addNotice = function (text) {
    var node = el('div', { class: 'kefu-notice', 'data-kefu': 'notice' }, text);
    this.logEl.appendChild(node);
    this.scroll();
    return node;
  };

  Widget.prototype.addError = function (code) {
    var text = this.t.error + (code ? ' (' + this.t.errorCode + ': ' + code + ')' : '');
    var node = el('div', { class: 'kefu-msg kefu-msg-error', role: 'alert', 'data-kefu': 'error' }, text);
    if (code) node.setAttribute('data-code', code);
    this.logEl.appendChild(node);
    this.scroll();
  };

  Widget.prototype.addAgent = function (text) {
    this.agentCount++;
    this.setHandoff(true);
    this.bubble('agent', text);
  };

  Widget.prototype.setHandoff = function (on) {
    var was = this.root.getAttribute('data-handoff') === 'true';
    this.root.setAttribute('data-handoff', on ? 'true' : 'false');
    if (on && !was) this.addNotice(this.t.handoff);
  };

  Widget.prototype.updateTyping = function () {
    var busy = this.turns.some(function (t) { return !t.finished; });
    this.typingEl.textContent = busy ? this.t.typing : '';
    this.root.setAttribute('data-busy', busy ? 'true' : 'false');
  };

  Widget.prototype.setStatus = function (state) {
    if (this.statusEl.getAttribute('data-state') === state) return;
    this.statusEl.setAttribute('data-state', state);
    this.statusEl.textContent = this.t[state] || state;
  };

  // The status shows the link that carries replies: the WebSocket (ws) or the event stream (sse).
  Widget.prototype.updateStatus = function () {
    if (this.destroyed) return this.setStatus('offline');
    if (this.transport === 'ws') {
      var s = this._socket;
      if (s && s.readyState === 1) return this.setStatus('online');
      return this.setStatus(this.wsAttempt > 0 ? 'reconnecting' : 'connecting');
    }
    if (this.streamOpen) return this.setStatus('online');
    this.setStatus(this.streamAttempt > 0 ? 'reconnecting' : 'connecting');
  };

  // ---- history -------------------------------------------------------------------------

  Widget.prototype.restore = async function (generation) {
    try {
      var res = await fetch(this.url('/v1/conversations/' + encodeURIComponent(this.conversationId) + '?history=50'), {
        headers: this.headers({ accept: 'application/json' })
      });
      if (!res.ok) return; // 404: a new conversation (or it expired)
      var session = await res.json();
      if (generation !== this.generation || !session || !Array.isArray(session.history)) return;
      var first = this.logEl.querySelector('.kefu-notice');
      var anchor = first ? first.nextSibling : this.logEl.firstChild;
      var self = this;
      session.history.forEach(function (h) {
        if (!h || typeof h.text !== 'string') return;
        if (h.speaker === 'user') {
          if (/^\/[\w.-]+$/.test(h.text)) return; // a quick-reply payload: the bot's answer follows
          self.bubble('user', h.text, anchor);
        } else if (h.speaker === 'agent') {
          self.agentCount++;
          self.bubble('agent', h.text, anchor);
        } else if (h.speaker === 'bot') {
          self.bubble('bot', h.text, anchor);
        }
      });
      if (session.handoff) this.setHandoff(true);
      this.scroll();
    } catch (e) {
      /* history is a convenience: the conversation goes on without it */
    }
  };

  // ---- sending -------------------------------------------------------------------------

  /** Sends `text` as the user's message; `shown` is what the user's bubble says (a button title). */
  Widget.prototype.send = function (text, shown) {
    text = String(text || '').trim();
    if (!text || this.destroyed) return Promise.resolve();
    this.disableQuickReplies();
    this.bubble('user', shown || text);
    var turn = {
      conversationId: this.conversationId,
      generation: this.generation,
      text: text,
      key: randomId('k-'),
      bubbles: {},
      sent: false,
      finished: false,
      attempts: 0
    };
    this.turns.push(turn);
    this.updateTyping();
    var self = this;
    if (this.transport === 'ws') {
      return new Promise(function (resolve) {
        turn.resolve = resolve;
        self.flushSocket();
      });
    }
    this.chain = this.chain.then(function () { return self.postTurn(turn); });
    return this.chain;
  };

  Widget.prototype.frameBody = function (turn) {
    var body = { text: turn.text, channel: this.channel, idempotency_key: turn.key };
    if (this.botLanguage) body.language = this.botLanguage;
    return body;
  };

  Widget.prototype.finishTurn = function (turn) {
    if (turn.finished) return;
    turn.finished = true;
    var i = this.turns.indexOf(turn);
    if (i >= 0) this.turns.splice(i, 1);
    this.updateTyping();
    if (turn.resolve) turn.resolve();
  };

  // One reply part (SSE event data or WebSocket frame) of a turn; finishes it on done/error.
  Widget.prototype.applyPart = function (turn, data) {
    if (!data || turn.finished) return;
    var live = turn.generation === this.generation;
    var node;
    switch (data.type) {
      case 'delta':
        if (!live) return;
        node = turn.bubbles[data.index];
        if (!node) node = turn.bubbles[data.index] = this.bubble('bot', '');
        this.appendBubbleText(node, String(data.text || ''));
        this.scroll();
        return;
      case 'message':
        if (!live || !data.message) return;
        node = turn.bubbles[data.index];
        if (!node) node = turn.bubbles[data.index] = this.bubble('bot', '');
        this.setBubbleText(node, String(data.message.text || ''));
        this.setButtons(node, data.message.buttons);
        return;
      case 'done':
        if (live && data.reply) this.applyReply(turn, data.reply);
        this.finishTurn(turn);
        return;
      case 'error':
        if (live) this.addError(data.code || 'error');
        this.finishTurn(turn);
        return;
      case 'agent_message':
        return; // shown from the conversation's event stream (see openStream)
      default:
        return;
    }
  };

  // The complete reply: fills in any message the stream did not deliver on its own.
  Widget.prototype.applyReply = function (turn, reply) {
    var self = this;
    (reply.messages || []).forEach(function (m, index) {
      if (!m || turn.bubbles[index]) return;
      var node = turn.bubbles[index] = self.bubble('bot', String(m.text || ''));
      self.setButtons(node, m.buttons);
    });
    if (typeof reply.handoff === 'boolean') this.setHandoff(reply.handoff);
  };

  // SSE transport: POST the message, read the reply as Server-Sent Events.
  Widget.prototype.postTurn = async function (turn) {
    var url = this.url('/v1/conversations/' + encodeURIComponent(turn.conversationId) + '/messages');
    while (!turn.finished) {
      if (turn.generation !== this.generation) return this.finishTurn(turn);
      turn.attempts++;
      var controller = new AbortController();
      this.abortPost = controller;
      var res;
      try {
        res = await fetch(url, {
          method: 'POST',
          headers: this.headers({ accept: 'text/event-stream' }),
          body: JSON.stringify(this.frameBody(turn)),
          signal: controller.signal
        });
        if (!res.ok) {
          var err = {};
          try { err = await res.json(); } catch (e) { /* not JSON */ }
          this.applyPart(turn, { type: 'error', code: err.code || 'http_' + res.status, message: err.message });
          return;
        }
        var type = res.headers.get('content-type') || '';
        if (type.indexOf('text/event-stream') < 0 || !res.body) {
          // a proxy (or an older server) answered with the JSON reply
          this.applyPart(turn, { type: 'done', reply: await res.json() });
          return;
        }
        var self = this;
        await readEventStream(res.body, function (name, raw) {
          var data;
          try { data = JSON.parse(raw); } catch (e) { return; }
          if (data && !data.type) data.type = name;
          self.applyPart(turn, data);
        });
        if (turn.finished) return;
        // the stream ended without `done`: retried below with the same idempotency key
      } catch (e) {
        if (controller.signal.aborted || turn.generation !== this.generation) return this.finishTurn(turn);
        // network failure: retried below with the same idempotency key
      } finally {
        if (this.abortPost === controller) this.abortPost = null;
      }
      if (turn.attempts >= 4) {
        this.applyPart(turn, { type: 'error', code: 'network' });
        return;
      }
      await sleep(backoff(turn.attempts - 1));
    }
  };

  // ---- WebSocket transport -------------------------------------------------------------

  Widget.prototype.openSocket = function () {
    if (this.destroyed) return;
    clearTimeout(this.wsTimer);
    this.wsTimer = null;
    var u = this.url('/v1/ws', true);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    var socket;
    try {
      socket = new WebSocket(u.toString());
    } catch (e) {
      this.scheduleSocket();
      return;
    }
    this._socket = socket;
    var self = this;
    socket.onopen = function () {
      if (self._socket !== socket) return;
      self.wsAttempt = 0;
      self.updateStatus();
      self.flushSocket();
    };
    socket.onmessage = function (e) {
      if (self._socket !== socket) return;
      var data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      self.onSocketFrame(data);
    };
    socket.onclose = function () {
      if (self._socket !== socket) return;
      self._socket = null;
      // turns sent on this socket and not answered go again (same idempotency key: the
      // server replays a reply it already computed instead of running the turn twice)
      self.turns.forEach(function (t) { t.sent = false; });
      self.scheduleSocket();
    };
    socket.onerror = function () { /* a close event follows */ };
    this.updateStatus();
  };

  Widget.prototype.scheduleSocket = function () {
    if (this.destroyed || this.wsTimer) return;
    var delay = backoff(this.wsAttempt);
    this.wsAttempt++;
    this.updateStatus();
    var self = this;
    this.wsTimer = setTimeout(function () {
      self.wsTimer = null;
      self.openSocket();
    }, delay);
  };

  Widget.prototype.flushSocket = function () {
    var s = this._socket;
    if (!s || s.readyState !== 1) {
      if (!s && !this.wsTimer) this.openSocket();
      return;
    }
    for (var i = 0; i < this.turns.length; i++) {
      var turn = this.turns[i];
      if (turn.sent || turn.finished) continue;
      var frame = this.frameBody(turn);
      frame.conversation_id = turn.conversationId;
      try {
        s.send(JSON.stringify(frame));
        turn.sent = true;
      } catch (e) {
        return; // closing: onclose re-sends
      }
    }
  };

  Widget.prototype.onSocketFrame = function (data) {
    if (!data || typeof data !== 'object') return;
    if (data.type === 'agent_message') return; // see openStream
    // The server answers a socket's frames in order: the reply belongs to the oldest
    // unfinished turn of that conversation (a frame error names no conversation).
    var id = data.conversation_id;
    for (var i = 0; i < this.turns.length; i++) {
      var turn = this.turns[i];
      if (turn.sent && (!id || turn.conversationId === id)) {
        this.applyPart(turn, data);
        return;
      }
    }
  };

  // ---- the conversation's event stream (human agents) ------------------------------------

  Widget.prototype.openStream = function () {
    if (this.destroyed || typeof global.EventSource !== 'function') return;
    clearTimeout(this.streamTimer);
    this.streamTimer = null;
    if (this.stream) this.stream.close();
    var conversationId = this.conversationId;
    var es = new EventSource(this.url('/v1/conversations/' + encodeURIComponent(conversationId) + '/stream', true).toString());
    this.stream = es;
    var self = this;
    es.onopen = function () {
      if (self.stream !== es) return;
      self.streamOpen = true;
      self.streamAttempt = 0;
      self.updateStatus();
    };
    es.addEventListener('agent_message', function (e) {
      if (self.stream !== es) return;
      var data;
      try { data = JSON.parse(e.data); } catch (err) { return; }
      if (data && typeof data.text === 'string' && (!data.conversation_id || data.conversation_id === conversationId)) {
        self.addAgent(data.text);
      }
    });
    // `message`, `delta` and `done` of this stream repeat what the POST (or the socket)
    // already delivered: not shown. A server-sent `error` event is a MessageEvent with data;
    // a connection error is a plain Event.
    es.addEventListener('error', function (e) {
      if (self.stream !== es || (e && typeof e.data === 'string')) return;
      self.streamOpen = false;
      if (es.readyState === 2) {
        // closed for good (an HTTP error or a non-stream answer): reconnect ourselves
        es.close();
        self.stream = null;
        var delay = backoff(self.streamAttempt);
        self.streamAttempt++;
        self.streamTimer = setTimeout(function () { self.openStream(); }, delay);
      } else {
        self.streamAttempt++; // the browser reconnects on its own
      }
      self.updateStatus();
    });
    this.streamOpen = false;
    this.updateStatus();
  };

  // ---- controls ------------------------------------------------------------------------

  /** Starts a new conversation: a new id, an empty log. */
  Widget.prototype.newConversation = function () {
    this.generation++;
    if (this.abortPost) this.abortPost.abort();
    var self = this;
    this.turns.slice().forEach(function (t) { self.finishTurn(t); });
    this.chain = Promise.resolve();
    this.conversationId = randomId('web-');
    this.saveId();
    this.agentCount = 0;
    this.setHandoff(false);
    this.logEl.textContent = '';
    this.addNotice(this.t.newConversationStarted);
    this.addNotice(this.t.welcome);
    this.streamAttempt = 0;
    this.openStream();
    this.inputEl.focus();
  };

  Widget.prototype.reconnectNow = function () {
    if (this.destroyed) return;
    if (this.transport === 'ws' && !this._socket) {
      clearTimeout(this.wsTimer);
      this.wsTimer = null;
      this.openSocket();
    }
    if (!this.stream) this.openStream();
  };

  /** Test hook: drops the live connections as a network failure would; the widget reconnects. */
  Widget.prototype.debugDropConnection = function () {
    if (this._socket) this._socket.close(4000, 'dropped by debugDropConnection');
    if (this.stream) {
      var es = this.stream;
      es.close();
      this.stream = null;
      this.streamOpen = false;
      var self = this;
      this.streamAttempt++;
      this.streamTimer = setTimeout(function () { self.openStream(); }, backoff(0));
      this.updateStatus();
    }
  };

  /** Removes the widget and closes its connections. */
  Widget.prototype.destroy = function () {
    this.destroyed = true;
    this.generation++;
    clearTimeout(this.wsTimer);
    clearTimeout(this.streamTimer);
    if (this.abortPost) this.abortPost.abort();
    if (this._socket) { var s = this._socket; this._socket = null; s.close(1000); }
    if (this.stream) { this.stream.close(); this.stream = null; }
    global.removeEventListener('online', this.onOnline);
    if (this.root.parentNode) this.root.parentNode.removeChild(this.root);
    var i = instances.indexOf(this);
    if (i >= 0) instances.splice(i, 1);
  };

  // ---- public API ----------------------------------------------------------------------

  var instances = [];

  function mount(container, options) {
    if (typeof container === 'string') container = doc.querySelector(container);
    if (!container) throw new Error('Kefu.mount: no such element');
    var w = new Widget(container, options);
    instances.push(w);
    return w;
  }

  function current() {
    return instances[instances.length - 1] || null;
  }

  var Kefu = {
    __kefuWidget: true,
    version: VERSION,
    strings: STRINGS,
    mount: mount,
    instances: instances,
    /** The conversation id of the latest mounted widget. */
    get conversationId() { var w = current(); return w ? w.conversationId : null; },
    /** The WebSocket of the latest mounted widget (ws transport), for tests. */
    get _socket() { var w = current(); return w ? w._socket : null; },
    send: function (text) { var w = current(); return w ? w.send(text) : Promise.resolve(); },
    newConversation: function () { var w = current(); if (w) w.newConversation(); },
    debugDropConnection: function () { var w = current(); if (w) w.debugDropConnection(); }
  };
  global.Kefu = Kefu;

  // Auto-mount from the <script> tag's data-* attributes.
  var script = doc.currentScript;
  if (script && script.getAttribute('data-mount') !== 'false') {
    var d = script.dataset;
    var options = {
      // default: where widget.js came from (so a server under a path prefix works too)
      server: d.server != null ? d.server : new URL('.', script.src || global.location.href).href,
      transport: d.transport,
      lang: d.lang,
      botLanguage: d.botLanguage,
      tenant: d.tenant,
      apiKey: d.apiKey || d.token,
      title: d.title,
      open: d.open !== 'false',
      floating: true
    };
    var start = function () { mount(doc.body, options); };
    if (doc.body) start();
    else doc.addEventListener('DOMContentLoaded', start);
  }
})(window);
