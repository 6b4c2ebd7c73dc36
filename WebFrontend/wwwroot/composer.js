// The chat page's message boxes are emptied here, in the page, and never by the server. Emptied by the server (a bound
// value set to "" and rendered), a box was emptied a round trip later, with whatever had been typed meanwhile: the
// next message, which Enter then sent as an empty box, so it was lost without a word.

// The room's box belongs to the page. At each submit the page queues the box's text and empties it; the server takes
// each submit's text from the queue (chatComposer.takeSubmitted), in order. A text the server never took (the page's
// connection to it broke first, which the page may not know for up to 30 s when a network goes) goes back into the
// box once the page knows (Blazor's reconnect dialog shows), or after the reload that follows a connection that could
// not come back: the queue is kept in the tab too, until the connection is back or the server has taken it.
const submitted = {
  key: 'realtimedemo.chat.unsent',
  queue: [],
  save() {
    try {
      if (this.queue.some((text) => text.trim())) {
        sessionStorage.setItem(this.key, JSON.stringify(this.queue));
      } else {
        sessionStorage.removeItem(this.key);
      }
    } catch { /* kept in the page only */ }
  },
  // What the server never took: from the page's queue (the tab's copy stays until save()), or after a reload the tab's.
  drain(fromTab) {
    let texts = this.queue;
    if (fromTab) {
      try { texts = JSON.parse(sessionStorage.getItem(this.key) ?? '[]'); } catch { texts = []; }
    }
    this.queue = [];
    return Array.isArray(texts) ? texts.filter((text) => typeof text === 'string' && text.trim()) : [];
  },
};

// The room's box: emptied as its form is submitted (a send that fails shows in the list, with Retry). The private
// box: what it held as its form was submitted is remembered, for as long as the box still starts with it.
document.addEventListener('submit', (event) => {
  for (const box of event.target.querySelectorAll('[data-empties-on-submit]')) {
    submitted.queue.push(box.value); // one per submit, blank too: the server takes one per submit
    submitted.save();
    box.value = '';
  }
  for (const box of event.target.querySelectorAll('[data-takes-out-sent]')) {
    box.sent = box.value;
  }
});

document.addEventListener('input', (event) => {
  const box = event.target;
  if (box.sent !== undefined && !box.value.startsWith(box.sent)) {
    delete box.sent; // edited into, or emptied and typed anew: no longer the sent text with more after it
  }
});

// The connection to the server broke: what it never took goes back into the box (Blazor drops events sent while it is
// down). Back on the same connection, the box holds it: the tab's copy goes.
document.addEventListener('components-reconnect-state-changed', (event) => {
  if (event.detail?.state === 'show') {
    const texts = submitted.drain(false);
    if (texts.length > 0) {
      window.chatComposer.putBack(null, texts.join('\n'));
    }
  } else if (event.detail?.state === 'hide') {
    submitted.save();
  }
}, true);

// A message may hold line breaks: its box is a text area where Enter sends and Shift+Enter starts a new line. Enter
// that ends an input method's composition is the composition's (keyCode 229: Safari ends it before the keydown), and
// Enter does nothing while the form's button is disabled (a send under way, no connection), as in a one-line input.
document.addEventListener('keydown', (event) => {
  const box = event.target;
  if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229 || !box.matches?.('textarea[data-enter-sends]')) {
    return;
  }

  event.preventDefault();
  const send = box.form?.querySelector('button[type=submit]');
  if (send && !send.disabled) {
    box.form.requestSubmit(send);
  }
});

window.chatComposer = {
  // The text of the room box's earliest submit the server has not taken yet (null when there is none).
  takeSubmitted() {
    const text = submitted.queue.shift() ?? null;
    submitted.save();
    return text;
  },

  // The room's box as it first shows (signed in, or back after a reload): the focus, and what a server never took.
  opened(box) {
    const texts = submitted.drain(true);
    submitted.save();
    if (texts.length > 0) {
      window.chatComposer.putBack(box, texts.join('\n'));
    }
    box?.focus();
  },

  // A text back into the room's box (found when not given), after what is typed there: a refused message taken back
  // (Edit, once the server has dropped its line), a send the server did not take. The server reads the box only at a
  // submit, so nothing is told it now.
  putBack(box, text) {
    box ??= document.querySelector('[data-empties-on-submit]');
    if (box) {
      box.value = box.value.trim() ? `${box.value.trimEnd()} ${text}` : text;
      box.focus();
    }
  },

  // The private box: once the recipient has the message (a refusal leaves it for another try), the sent text is taken
  // out and what was typed after it stays: typing goes on at the end of the sent text while it is on its way. The
  // input event tells the server, in order with the keystrokes after it.
  takeOut(box, sent) {
    const still = box && box.sent === sent && box.value.startsWith(sent);
    if (box) {
      delete box.sent;
    }
    if (still) {
      box.value = box.value.slice(sent.length).trimStart();
      box.dispatchEvent(new Event('input', { bubbles: true }));
    }
  },
};
