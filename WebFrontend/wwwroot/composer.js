// The chat page's message boxes are emptied here, in the page, and never by the server. Emptied by the server (a bound
// value set to "" and rendered), a box was emptied a round trip later, with whatever had been typed meanwhile: the
// next message, which Enter then sent as an empty box, so it was lost without a word.

// The room's box: emptied as its form is submitted (a send that fails shows in the list, with Retry). The private
// box: what it held as its form was submitted is remembered, for as long as the box still starts with it.
document.addEventListener('submit', (event) => {
  for (const box of event.target.querySelectorAll('[data-empties-on-submit]')) {
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
  // A text back into its box (the room's when none is given), after what is typed there: a refused message taken back
  // (Edit, once the server has dropped its line), a send the page did not take. The input event tells the server, in
  // order with the keystrokes after it.
  putBack(box, text) {
    box ??= document.querySelector('[data-empties-on-submit]');
    if (box) {
      box.value = box.value.trim() ? `${box.value.trimEnd()} ${text}` : text;
      box.dispatchEvent(new Event('input', { bubbles: true }));
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
